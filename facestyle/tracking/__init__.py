from facestyle.tracking.one_euro import OneEuroFilter
from facestyle.tracking.temporal import FaceReuse, flow_blend
from facestyle.tracking.tracker import FaceTracker, Track

__all__ = ["OneEuroFilter", "FaceTracker", "Track", "FaceReuse", "flow_blend"]
