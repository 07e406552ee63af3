# The stream pipeline (DESIGN part 4). So far: the SORT-style tracker and the assignment it
# uses. Included from src/CMakeLists.txt.
add_library(supernova_stream STATIC stream/assignment.cc stream/tracker.cc)
target_include_directories(supernova_stream PUBLIC ${PROJECT_SOURCE_DIR}/src)
supernova_warnings(supernova_stream)
