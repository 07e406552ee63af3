// Compiled with the include directories of one layer (tests/CMakeLists.txt, layers.*): the
// header named by PROBE_HEADER must be found exactly when the layer may include it.
#include PROBE_HEADER
