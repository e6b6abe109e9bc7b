# Turns the files of a directory into a C source, so a program carries them
# (the live hall page: dashboards/web). Run at build time:
#
#   cmake -DDIR=<dir> -DOUT=<file.c> -DHEADER=<name.h> -DPREFIX=<sym> -P Embed.cmake
#
# Each file becomes a static byte array; <PREFIX>[] lists them with their
# name (relative to DIR), size and strong ETag (the first 16 hex digits of the
# SHA-256 of their content, quoted), ending with a {NULL} entry. The source
# includes HEADER, which declares struct embed_file.
foreach(v DIR OUT HEADER PREFIX)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "Embed.cmake: -D${v}= is required")
    endif()
endforeach()

file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(arrays "")
set(table "")
set(i 0)
foreach(name ${files})
    file(READ "${DIR}/${name}" hex HEX)
    file(SHA256 "${DIR}/${name}" sha)
    string(SUBSTRING "${sha}" 0 16 etag)
    string(LENGTH "${hex}" hex_len)
    math(EXPR size "${hex_len} / 2")
    # 16 bytes a line.
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(REGEX REPLACE "((0x..,){16})" "\\1\n    " bytes "${bytes}")
    string(APPEND arrays "/* ${name} */\nstatic const unsigned char file_${i}[${size} + 1] = {\n    ${bytes}0x00};\n\n")
    string(APPEND table "    {\"${name}\", file_${i}, ${size}, \"\\\"${etag}\\\"\"},\n")
    math(EXPR i "${i} + 1")
endforeach()

set(text "/* Generated at build time by cmake/Embed.cmake from ${DIR}: do not edit. */\n")
string(APPEND text "#include \"${HEADER}\"\n\n${arrays}")
string(APPEND text "const struct embed_file ${PREFIX}[] = {\n${table}    {0},\n};\n")
# Rewrite only on change, so an unchanged page does not rebuild the program.
if(EXISTS "${OUT}")
    file(READ "${OUT}" old)
    if(old STREQUAL text)
        return()
    endif()
endif()
file(WRITE "${OUT}" "${text}")
