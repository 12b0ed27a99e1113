# Fails when a source of a pure library (CMakeLists.txt: no libpq, no
# librdkafka), or the header beside it, includes libpq's or librdkafka's
# headers or the header of one of the project's I/O sources. libpq-fe.h is
# not on the default include path, so the compiler already refuses it in a
# pure library; librdkafka's headers are (Debian's librdkafka-dev), and the
# project's own I/O headers always are, so this check draws the line.
#
#   cmake -DSOURCE_DIR=... -DPURE_SOURCES=a.cc|b.cc -DIO_SOURCES=c.cc|d.cc
#         -P check_pure.cmake
cmake_minimum_required(VERSION 3.22)
string(REPLACE "|" ";" pure_sources "${PURE_SOURCES}")
string(REPLACE "|" ";" io_sources "${IO_SOURCES}")

# "cdc/pg/connection.h" for .../cdc/pg/connection.cc.
set(io_headers)
foreach(source ${io_sources})
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${source})
  string(REGEX REPLACE "\\.cc$" ".h" header ${rel})
  list(APPEND io_headers ${header})
endforeach()

set(violations)
foreach(source ${pure_sources})
  string(REGEX REPLACE "\\.cc$" ".h" header ${source})
  set(files ${source})
  if(EXISTS ${header})
    list(APPEND files ${header})
  endif()
  foreach(file ${files})
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(line ${includes})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]*)[>\"].*"
                           "\\1" included "${line}")
      set(bad FALSE)
      if(included MATCHES "^(libpq-fe\\.h|libpq/|librdkafka/|rdkafka\\.h)")
        set(bad TRUE)
      elseif(included IN_LIST io_headers)
        set(bad TRUE)
      endif()
      if(bad)
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
        list(APPEND violations "${rel}: #include ${included}")
      endif()
    endforeach()
  endforeach()
endforeach()

list(LENGTH pure_sources checked)
if(violations)
  string(REPLACE ";" "\n  " listed "${violations}")
  message(FATAL_ERROR
    "A pure library includes an I/O header:\n  ${listed}\n"
    "Move the I/O into an I/O library, or list the source as I/O in "
    "CMakeLists.txt (CDC_IO_SOURCES_<folder>).")
endif()
message(STATUS "${checked} pure sources include no I/O header")
