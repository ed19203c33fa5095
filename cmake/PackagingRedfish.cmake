# The second Debian package, zerobmc-redfish: the gateway's install
# component, packaged from its own CPack configuration:
#   cpack -G DEB --config CPackConfig-redfish.cmake
install(FILES ${CMAKE_SOURCE_DIR}/packaging/zerobmc-redfish.service
	DESTINATION lib/systemd/system COMPONENT redfish)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/redfish.conf.example
	DESTINATION /etc/zerobmc RENAME redfish.conf
	PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
	COMPONENT redfish)
install(FILES ${CMAKE_SOURCE_DIR}/docs/REDFISH.md
	DESTINATION share/doc/zerobmc-redfish COMPONENT redfish)
configure_file(${CMAKE_SOURCE_DIR}/packaging/CPackConfig-redfish.cmake.in
	${CMAKE_BINARY_DIR}/CPackConfig-redfish.cmake @ONLY)
