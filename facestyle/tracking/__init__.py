from facestyle.tracking.one_euro import OneEuroFilter
from facestyle.tracking.temporal import FaceReuse, TemporalBlend
from facestyle.tracking.tracker import FaceTracker, Track

__all__ = ["OneEuroFilter", "FaceTracker", "Track", "TemporalBlend", "FaceReuse"]
