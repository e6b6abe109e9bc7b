# The layers, each folder a static library; a program links only those it
# uses (README.md, "Architecture"):
#
#   hallgw_lib      lib/             the toolkit every program shares
#   hallgw_config   gateway/config/  hallgw.conf: loading, validation, lookups,
#                                    the opening schedule
#   hallgw_core     gateway/core/    the pure core: no I/O, no clock
#   hallgw_mqtt     gateway/io/      the MQTT client (Paho), its persistence log and
#                                    the inbox journal
#   hallgw_io       gateway/io/      InfluxDB, HTTP, SQLite, notifications, systemd,
#                                    password hashes
#   hallgw_gateway  gateway/         the wiring of the core to the I/O edge
#   hallgw_agent    sensors/agent/   the PC agent's modules
#
# hallgw_libraries(SUFFIX [options...]) defines them all, named with SUFFIX
# and compiled with the extra options: once as they ship (no suffix) and once
# for the libFuzzer targets (_fuzz, with coverage).
function(hallgw_libraries sfx)
    set(opts ${ARGN})
    set(src ${PROJECT_SOURCE_DIR})

    file(GLOB lib_sources CONFIGURE_DEPENDS ${src}/lib/*.c)
    add_library(hallgw_lib${sfx} STATIC ${lib_sources})
    target_include_directories(hallgw_lib${sfx} PUBLIC ${src}/lib)
    target_link_libraries(hallgw_lib${sfx} PUBLIC PkgConfig::JANSSON PkgConfig::YAJL
                          PkgConfig::ZLIB PkgConfig::OPENSSL PkgConfig::LIBCONFIG
                          Threads::Threads m)

    file(GLOB config_sources CONFIGURE_DEPENDS ${src}/gateway/config/*.c)
    add_library(hallgw_config${sfx} STATIC ${config_sources})
    target_include_directories(hallgw_config${sfx} PUBLIC ${src}/gateway/config)
    target_link_libraries(hallgw_config${sfx} PUBLIC hallgw_lib${sfx})

    file(GLOB core_sources CONFIGURE_DEPENDS ${src}/gateway/core/*.c)
    add_library(hallgw_core${sfx} STATIC ${core_sources})
    target_include_directories(hallgw_core${sfx} PUBLIC ${src}/gateway/core)
    target_link_libraries(hallgw_core${sfx} PUBLIC hallgw_config${sfx})

    set(mqtt_sources ${src}/gateway/io/mqtt.c ${src}/gateway/io/mqtt_store.c
                     ${src}/gateway/io/mqtt_persist.c ${src}/gateway/io/journal.c)
    add_library(hallgw_mqtt${sfx} STATIC ${mqtt_sources})
    target_include_directories(hallgw_mqtt${sfx} PUBLIC ${src}/gateway/io ${PAHO_INCLUDE})
    target_link_libraries(hallgw_mqtt${sfx} PUBLIC hallgw_lib${sfx} ${PAHO_MQTT3AS})

    file(GLOB io_sources CONFIGURE_DEPENDS ${src}/gateway/io/*.c)
    list(REMOVE_ITEM io_sources ${mqtt_sources})
    add_library(hallgw_io${sfx} STATIC ${io_sources})
    target_include_directories(hallgw_io${sfx} PUBLIC ${src}/gateway/io)
    target_link_libraries(hallgw_io${sfx} PUBLIC hallgw_core${sfx} PkgConfig::CURL
                          PkgConfig::SQLITE PkgConfig::MHD PkgConfig::SYSTEMD
                          PkgConfig::XCRYPT)

    file(GLOB gateway_sources CONFIGURE_DEPENDS ${src}/gateway/*.c)
    list(REMOVE_ITEM gateway_sources ${src}/gateway/main.c)
    add_library(hallgw_gateway${sfx} STATIC ${gateway_sources} ${web_source})
    target_include_directories(hallgw_gateway${sfx} PUBLIC ${src}/gateway)
    target_link_libraries(hallgw_gateway${sfx} PUBLIC hallgw_io${sfx} hallgw_mqtt${sfx})

    file(GLOB agent_sources CONFIGURE_DEPENDS ${src}/sensors/agent/*.c)
    list(REMOVE_ITEM agent_sources ${src}/sensors/agent/agent.c)
    add_library(hallgw_agent${sfx} STATIC ${agent_sources})
    target_include_directories(hallgw_agent${sfx} PUBLIC ${src}/sensors/agent)
    target_link_libraries(hallgw_agent${sfx} PUBLIC hallgw_mqtt${sfx} hallgw_lib${sfx})

    if(opts)
        foreach(l lib config core mqtt io gateway agent)
            target_compile_options(hallgw_${l}${sfx} PRIVATE ${opts})
        endforeach()
    endif()
endfunction()
