// The opencv provider as a plugin: supernova_provider_opencv.so, opened only by a session that
// asks for "opencv", so that no other process maps OpenCV.
#include "providers/plugin.h"
#include "providers/opencv/opencv_provider.h"

SUPERNOVA_PROVIDER_PLUGIN("opencv", &supernova::providers::opencv::MakeOpenCvProvider)
