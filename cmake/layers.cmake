# The layers of the build (DESIGN.md: lower parts never include higher ones), enforced by the
# compiler rather than by convention.
#
#   supernova_layer(<name> KIND OBJECT|STATIC|MODULE
#                   [BASE <dir>]               # where HEADERS are (default: src/)
#                   SOURCES <files>            # relative to the calling directory
#                   HEADERS <globs>            # relative to BASE: "ir/*.h"
#                   PUBLIC_HEADERS <globs>     # relative to include/: "supernova/session.h"
#                   DEPENDS <layers>           # the layers whose headers this one may include
#                   LINK <targets>             # libraries its sources use (linked privately)
#                   INTERFACE <targets>)       # libraries its headers need (OpenMP pragmas)
#
# Every layer gets include directories of its own under build/layers/<name>/, holding symbolic
# links to its headers and nothing else: internal/ for HEADERS, public/ for PUBLIC_HEADERS
# (the installed API). A source sees the headers of its own layer and of the layers it
# DEPENDS on (transitively), so an include that reaches up a layer, or sideways into a layer it
# does not name, fails to compile: the file is simply not there.
#
# Targets made:
#   supernova_<name>          the library of KIND. OBJECT layers are the runtime's parts: their
#                             objects go into the one shared libsupernova (src/CMakeLists.txt).
#   supernova_<name>_headers  INTERFACE: its include directories and those of DEPENDS
#   supernova_<name>_public   INTERFACE: its public include directory and those of DEPENDS
#   supernova::<name>         what users of the layer link: its headers and its code (for
#                             OBJECT layers, libsupernova; otherwise the library itself).
function(supernova_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 L "" "KIND;BASE"
                        "SOURCES;HEADERS;PUBLIC_HEADERS;DEPENDS;LINK;INTERFACE")
  if(NOT L_BASE)
    set(L_BASE ${PROJECT_SOURCE_DIR}/src)
  endif()
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  # Links made afresh at every configure, so a header moved to another layer leaves none behind.
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root}/internal ${root}/public)
  supernova_layer_links(${L_BASE} ${root}/internal ${L_HEADERS})
  supernova_layer_links(${PROJECT_SOURCE_DIR}/include ${root}/public ${L_PUBLIC_HEADERS})

  set(t supernova_${name})
  add_library(${t}_public INTERFACE)
  target_include_directories(${t}_public INTERFACE $<BUILD_INTERFACE:${root}/public>)
  add_library(${t}_headers INTERFACE)
  target_include_directories(${t}_headers INTERFACE $<BUILD_INTERFACE:${root}/internal>)
  target_link_libraries(${t}_headers INTERFACE ${t}_public ${L_INTERFACE})
  foreach(dep IN LISTS L_DEPENDS)
    target_link_libraries(${t}_public INTERFACE supernova_${dep}_public)
    target_link_libraries(${t}_headers INTERFACE supernova_${dep}_headers)
  endforeach()

  add_library(${t} ${L_KIND} ${L_SOURCES})
  target_link_libraries(${t} PUBLIC ${t}_headers PRIVATE ${L_LINK})
  set_target_properties(${t} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  supernova_warnings(${t})

  add_library(supernova::${name} INTERFACE IMPORTED GLOBAL)
  if(L_KIND STREQUAL "OBJECT")
    target_link_libraries(supernova::${name} INTERFACE ${t}_headers supernova_lib)
  else()
    target_link_libraries(supernova::${name} INTERFACE ${t})
    # The code of the layers it depends on: libsupernova for the runtime's parts, the
    # libraries themselves for the others.
    foreach(dep IN LISTS L_DEPENDS)
      target_link_libraries(${t} PUBLIC supernova::${dep})
    endforeach()
  endif()
endfunction()

# Links each header matching the globs (relative to `from`) to the same relative path under
# `root`. A glob that matches nothing is an error: a renamed header must not vanish quietly.
function(supernova_layer_links from root)
  foreach(pattern IN LISTS ARGN)
    file(GLOB found RELATIVE ${from} CONFIGURE_DEPENDS ${from}/${pattern})
    if(NOT found)
      message(FATAL_ERROR "supernova_layer: no header matches ${from}/${pattern}")
    endif()
    foreach(h IN LISTS found)
      get_filename_component(dir ${root}/${h} DIRECTORY)
      file(MAKE_DIRECTORY ${dir})
      file(CREATE_LINK ${from}/${h} ${root}/${h} SYMBOLIC)
    endforeach()
  endforeach()
endfunction()
