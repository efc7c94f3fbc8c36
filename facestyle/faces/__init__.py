from facestyle.faces.align import TEMPLATE, align_face, similarity_matrix
from facestyle.faces.detect import Face, FaceDetector
from facestyle.faces.paste import feather_mask, paste_face

__all__ = ["TEMPLATE", "align_face", "similarity_matrix", "Face", "FaceDetector", "feather_mask", "paste_face"]
