"""emotion: recognise viewers' facial emotions, config-driven and tracked in MLflow."""

import os

# TensorFlow's C++ start-up chatter would bury our one-line errors. Without an NVIDIA driver its device
# probe logs "failed call to cuInit: CUDA error" at error level, an error that is not one: only fatal then.
_GPU_DRIVER = os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/nvidiactl")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if _GPU_DRIVER else "3")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

__all__ = ["EmotionOnCamera", "emotion_on_camera"]


def __getattr__(name):
    # Imported here: `import emotion` must not pull in TensorFlow, MLflow or OpenCV.
    if name in __all__:
        from emotion.inference import camera

        return getattr(camera, name)
    raise AttributeError(f"module 'emotion' has no attribute {name!r}")
