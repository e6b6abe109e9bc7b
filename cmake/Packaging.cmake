# Install layout and Debian packages (docs/operations.md).
#
# `cmake --install` puts the programs under CMAKE_INSTALL_PREFIX (GNUInstallDirs:
# bin/, share/hallgw/, share/doc/hallgw/), the configuration in /etc/hallgw
# (where hallgw and hallgw-agent look by default) and the units in systemd's
# unit directory. `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr makes two packages from the same rules:
#
#   hallgw        hallgw, hallgw-sim, hall-provision, hallgw.service, the
#                 system user, /etc/hallgw/{hallgw.conf,rules.default.conf},
#                 /usr/share/hallgw/{web,grafana,mosquitto}, the docs, the
#                 licence, hallgw(8), hallgw.conf(5), hallgw-sim(1)
#   hallgw-agent  hallgw-agent, hallgw-agent.service, /etc/hallgw/agent.conf,
#                 /usr/share/doc/hallgw/agents.md, the licence, hallgw-agent(8)
#
# Everything under /etc/hallgw is a conffile: local changes survive upgrades.
include(GNUInstallDirs)

set(HALLGW_CONFDIR "/etc/hallgw" CACHE PATH
    "Where the configuration is installed (the programs' default: /etc/hallgw)")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    pkg_get_variable(systemd_unitdir systemd systemdsystemunitdir)
    if(NOT systemd_unitdir)
        set(systemd_unitdir "/lib/systemd/system")
    endif()
else()
    set(systemd_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(HALLGW_SYSTEMD_UNITDIR "${systemd_unitdir}" CACHE PATH
    "Where the systemd units are installed")
set(hallgw_datadir "${CMAKE_INSTALL_DATADIR}/hallgw")
set(HALLGW_WEB_DIR "${CMAKE_INSTALL_FULL_DATADIR}/hallgw/web")
set(pkg_out "${PROJECT_BINARY_DIR}/packaging")

# ---- Files made at configure time --------------------------------------------
# The units name /usr/bin and /etc/hallgw: for another prefix or config
# directory, the installed copies name the installed paths.
function(hallgw_unit name)
    set(src "${PROJECT_SOURCE_DIR}/systemd/${name}.service")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${src}")
    file(READ "${src}" text)
    string(REPLACE "/usr/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" text "${text}")
    string(REPLACE "/etc/hallgw/" "${HALLGW_CONFDIR}/" text "${text}")
    string(REPLACE "/usr/share/doc/hallgw/" "${CMAKE_INSTALL_FULL_DOCDIR}/" text "${text}")
    file(WRITE "${pkg_out}/${name}.service" "${text}")
endfunction()
hallgw_unit(hallgw)
hallgw_unit(hallgw-agent)

# The installed hallgw.conf: passes --check-config with nothing else installed.
configure_file(packaging/deb/hallgw.conf.in "${pkg_out}/hallgw.conf" @ONLY)

# The manual pages (man/), gzipped as Debian installs them.
find_program(GZIP gzip REQUIRED)
set(man_pages hallgw.8 hallgw.conf.5 hallgw-sim.1 hallgw-agent.8)
set(man_gz "")
foreach(page ${man_pages})
    add_custom_command(OUTPUT ${pkg_out}/man/${page}.gz
        COMMAND ${CMAKE_COMMAND} -E make_directory ${pkg_out}/man
        COMMAND ${GZIP} -9nc ${PROJECT_SOURCE_DIR}/man/${page} > ${pkg_out}/man/${page}.gz
        DEPENDS ${PROJECT_SOURCE_DIR}/man/${page}
        COMMENT "Compressing the manual page ${page}")
    list(APPEND man_gz ${pkg_out}/man/${page}.gz)
endforeach()
add_custom_target(man_pages ALL DEPENDS ${man_gz})

# ---- Install rules -----------------------------------------------------------
install(TARGETS hallgw hallgw-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT gateway)
install(PROGRAMS scripts/hall-provision DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT gateway)
install(FILES "${pkg_out}/hallgw.service" DESTINATION "${HALLGW_SYSTEMD_UNITDIR}"
        COMPONENT gateway)
install(FILES packaging/deb/sysusers.conf DESTINATION lib/sysusers.d RENAME hallgw.conf
        COMPONENT gateway)
set(gateway_conffiles hallgw.conf rules.default.conf)
install(FILES "${pkg_out}/hallgw.conf" config/rules.default.conf
        DESTINATION "${HALLGW_CONFDIR}" COMPONENT gateway)
install(DIRECTORY dashboards/web/ DESTINATION ${hallgw_datadir}/web COMPONENT gateway)
install(DIRECTORY dashboards/grafana/ DESTINATION ${hallgw_datadir}/grafana COMPONENT gateway)
install(DIRECTORY config/mosquitto/ DESTINATION ${hallgw_datadir}/mosquitto COMPONENT gateway)
install(FILES config/hallgw.conf config/demo.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT gateway)
file(GLOB doc_pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
list(REMOVE_ITEM doc_pages ${PROJECT_SOURCE_DIR}/docs/agents.md)
install(FILES README.md ${doc_pages} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT gateway)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright COMPONENT gateway)
install(FILES ${pkg_out}/man/hallgw.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT gateway)
install(FILES ${pkg_out}/man/hallgw.conf.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5
        COMPONENT gateway)
install(FILES ${pkg_out}/man/hallgw-sim.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT gateway)

install(TARGETS hallgw-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
install(FILES "${pkg_out}/hallgw-agent.service" DESTINATION "${HALLGW_SYSTEMD_UNITDIR}"
        COMPONENT agent)
set(agent_conffiles agent.conf)
install(FILES config/agent.conf DESTINATION "${HALLGW_CONFDIR}" COMPONENT agent)
install(FILES docs/agents.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT agent)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/hallgw-agent RENAME copyright
        COMPONENT agent)
install(FILES ${pkg_out}/man/hallgw-agent.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        COMPONENT agent)

# ---- Debian packages ---------------------------------------------------------
# Maintainer scripts and conffiles of one component (packaging/deb/*.in).
function(hallgw_deb_control comp pkg unit sysusers state_dirs)
    set(PKG "${pkg}")
    set(UNIT "${unit}")
    set(SYSUSERS "${sysusers}")
    set(STATE_DIRS "${state_dirs}")
    set(dir "${pkg_out}/${pkg}")
    foreach(script postinst prerm postrm)
        # Executable like its template; CONTROL_STRICT_PERMISSION makes it 0755.
        configure_file(packaging/deb/${script}.in "${dir}/${script}" @ONLY)
    endforeach()
    set(conffiles "")
    foreach(f ${${comp}_conffiles})
        string(APPEND conffiles "${HALLGW_CONFDIR}/${f}\n")
    endforeach()
    file(WRITE "${dir}/conffiles" "${conffiles}")
    string(TOUPPER "${comp}" COMP)
    set(CPACK_DEBIAN_${COMP}_PACKAGE_CONTROL_EXTRA
        "${dir}/conffiles;${dir}/postinst;${dir}/prerm;${dir}/postrm" PARENT_SCOPE)
    set(CPACK_DEBIAN_${COMP}_PACKAGE_CONTROL_STRICT_PERMISSION TRUE PARENT_SCOPE)
endfunction()

hallgw_deb_control(gateway hallgw hallgw.service hallgw.conf
                   "/var/lib/hallgw /var/lib/private/hallgw")
hallgw_deb_control(agent hallgw-agent hallgw-agent.service ""
                   "/var/lib/hallgw-agent")

set(HALLGW_DEB_RELEASE "" CACHE STRING "Debian revision of the packages (empty: none)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hallgw)
set(CPACK_PACKAGE_VENDOR "hallgw")
set(CPACK_PACKAGE_CONTACT "hallgw maintainers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_COMPONENTS_ALL gateway agent)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE "${HALLGW_DEB_RELEASE}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "hallgw maintainers")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_GATEWAY_PACKAGE_NAME hallgw)
set(CPACK_DEBIAN_GATEWAY_PACKAGE_RECOMMENDS "mosquitto, sqlite3")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_SUGGESTS "influxdb, openssl, mosquitto-clients")
set(CPACK_COMPONENT_GATEWAY_DESCRIPTION
    "public service hall gateway: MQTT to rules, alerts and InfluxDB\n\
hallgw reads the sensors, PCs, plugs and queue system of a public service hall\n\
over MQTT, turns the hall regulations into alerts, powers PCs off after hours,\n\
stores readings in InfluxDB and serves a live hall page, a JSON API and\n\
/metrics. Also ships hallgw-sim (a simulated hall) and hall-provision (the\n\
certificates, broker accounts and keys of a hall).")
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME hallgw-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_SUGGESTS "clamav, libnotify-bin")
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "hallgw agent for the PCs of a public service hall\n\
hallgw-agent reports a PC's health, antivirus state and logged-in users to the\n\
hall gateway over MQTT and carries out its signed power-off, scan and notify\n\
commands.")

# A .deb needs the Debian layout: refuse one built for another prefix.
set(CPACK_PROJECT_CONFIG_FILE "${pkg_out}/cpack-check.cmake")
file(WRITE "${CPACK_PROJECT_CONFIG_FILE}"
"if(CPACK_GENERATOR STREQUAL \"DEB\" AND NOT \"${CMAKE_INSTALL_PREFIX}\" STREQUAL \"/usr\")
    message(FATAL_ERROR \"hallgw: the .deb needs a build configured with \"
            \"-DCMAKE_INSTALL_PREFIX=/usr (this one installs to ${CMAKE_INSTALL_PREFIX})\")
endif()
")

include(CPack)
