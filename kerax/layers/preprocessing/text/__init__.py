"""String layers that run on the host (NumPy and Python; strings never enter XLA).

`StringLookup`, `IntegerLookup`, `TextVectorization` and `HashedCrossing` equal Keras 3
on TensorFlow output for output (checked against committed goldens), without TensorFlow.
"""
