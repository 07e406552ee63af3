# Warnings for the project's own targets (not for third-party headers).
# The GCC flags go to C++ sources only: nvcc rejects them, and passes its own host-compiler
# flags through -Xcompiler (see the CUDA block).
function(supernova_warnings target)
  set(cxx "$<COMPILE_LANGUAGE:CXX>")
  # Shadowed locals: GCC's -Wshadow=local is -Wshadow-uncaptured-local in clang (the fuzzing tree).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(shadow -Wshadow=local)
  else()
    set(shadow -Wshadow-uncaptured-local)
  endif()
  target_compile_options(${target} PRIVATE
    $<${cxx}:-Wall -Wextra -Wpedantic ${shadow} -Wnon-virtual-dtor
             -Wno-missing-field-initializers>)
  # GCC 12 reports false -Wrestrict positives in std::string concatenation at -O3 (GCC bug 105329).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE $<${cxx}:-Wno-restrict>)
  endif()
  if(SUPERNOVA_WERROR)
    target_compile_options(${target} PRIVATE $<${cxx}:-Werror>)
  endif()
  # CUDA sources: nvcc's own diagnostics plus the host compiler's -Wall on the host side of
  # the .cu files (not -Wpedantic/-Wextra: nvcc's generated stubs trip them).
  if(CMAKE_CUDA_COMPILER)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall>)
    if(SUPERNOVA_WERROR)
      target_compile_options(${target} PRIVATE
        $<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings -Xcompiler=-Werror>)
    endif()
  endif()
endfunction()
