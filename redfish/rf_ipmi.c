#include "redfish/rf.h"
int rf_ipmi_hook_main(int argc, char **argv, const char *conf_path)
{
	return 1;
}
