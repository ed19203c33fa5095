/*
 * The Home Assistant entities the agent offers, as data: one row each,
 * with the features it needs, its command and how it reads its value.
 */
#include "ha-integration/discovery_priv.h"

const char *const ha_phase_names[] = {
	"unknown", "off", "firmware", "booting-media", "os", "asleep",
};
const char *const ha_event_sources[] = {
	"usb", "led", "media", "console", "power", "agent",
};
const size_t ha_n_phase_names =
	sizeof(ha_phase_names) / sizeof(ha_phase_names[0]);
const size_t ha_n_event_sources =
	sizeof(ha_event_sources) / sizeof(ha_event_sources[0]);

const struct ha_def ha_defs[] = {
	{
		.key = "ctrl_alt_del",
		.platform = HA_BUTTON,
		.name = "Ctrl+Alt+Del",
		.cmd = "reboot",
		.press = "soft",
		.dev_cla = "restart",
	},
	{
		.key = "sysrq_reboot",
		.platform = HA_BUTTON,
		.name = "SysRq reboot",
		.cmd = "reboot",
		.press = "sysrq",
		.dev_cla = "restart",
		.icon = "mdi:keyboard-esc",
	},
	{
		.key = "power_on",
		.platform = HA_BUTTON,
		.needs = HA_F_POWER_ON,
		.name = "Power on",
		.cmd = "power",
		.press = "on",
		.icon = "mdi:power",
	},
	{
		.key = "power_off",
		.platform = HA_BUTTON,
		.needs = HA_F_POWER_OFF,
		.name = "Power off",
		.cmd = "power",
		.press = "off",
		.icon = "mdi:power-off",
	},
	{
		.key = "power_reset",
		.platform = HA_BUTTON,
		.needs = HA_F_POWER_RESET,
		.name = "Reset",
		.cmd = "power",
		.press = "reset",
		.dev_cla = "restart",
	},
	{
		.key = "power_wake",
		.platform = HA_BUTTON,
		.needs = HA_F_POWER_WAKE,
		.name = "Wake",
		.cmd = "power",
		.press = "wake",
		.icon = "mdi:sleep-off",
	},
	{
		.key = "macro_",
		.platform = HA_BUTTON,
		.needs = HA_F_MACROS,
		.per_macro = true,
		.name = "Macro ",
		.cmd = "macro",
		.icon = "mdi:script-text-play",
	},
	{
		.key = "media",
		.platform = HA_SELECT,
		.needs = HA_F_MEDIA,
		.name = "Virtual media",
		.cmd = "media",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ value_json.media.image if value_json.media is "
			   "defined and value_json.media.image else "
			   "'" HA_NONE_OPTION "' }}",
		.cmd_tpl = "{{ 'eject' if value == '" HA_NONE_OPTION
			   "' else value }}",
		.icon = "mdi:disc",
		.options = HA_OPT_IMAGES,
	},
	{
		.key = "boot_once",
		.platform = HA_SELECT,
		.needs = HA_F_BOOT | HA_F_MEDIA,
		.name = "Boot once from",
		.cmd = "boot",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ '" HA_NONE_OPTION "' }}",
		.cmd_tpl = "{{ 'cancel' if value == '" HA_NONE_OPTION
			   "' else value }}",
		.icon = "mdi:disc-player",
		.options = HA_OPT_IMAGES,
	},
	{
		/* As reinstall_cancel below: the dashboard cannot pick the
		 * "none" the select shows. */
		.key = "boot_once_cancel",
		.platform = HA_BUTTON,
		.needs = HA_F_BOOT | HA_F_MEDIA,
		.name = "Cancel boot once",
		.cmd = "boot",
		.press = "cancel",
		.icon = "mdi:cancel",
	},
	{
		.key = "reinstall",
		.platform = HA_SELECT,
		.needs = HA_F_REINSTALL | HA_F_MEDIA,
		.name = "Reinstall from",
		.cmd = "reinstall",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ '" HA_NONE_OPTION "' }}",
		.cmd_tpl = "{{ 'cancel' if value == '" HA_NONE_OPTION
			   "' else value }}",
		.icon = "mdi:backup-restore",
		.options = HA_OPT_IMAGES,
	},
	{
		/*
		 * The select above shows "none" and Home Assistant's
		 * dashboard ignores picking the option shown, so its "none"
		 * cannot cancel: this button can.
		 */
		.key = "reinstall_cancel",
		.platform = HA_BUTTON,
		.needs = HA_F_REINSTALL | HA_F_MEDIA,
		.name = "Cancel reinstall",
		.cmd = "reinstall",
		.press = "cancel",
		.icon = "mdi:cancel",
	},
	{
		.key = "reinstall_phase",
		.platform = HA_SENSOR,
		.needs = HA_F_BOOT,
		.name = "Reinstall",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ value_json.reinstall.phase if "
			   "value_json.reinstall is defined and "
			   "value_json.reinstall.running else 'idle' }}",
		.icon = "mdi:backup-restore",
	},
	{
		.key = "type_text",
		.platform = HA_TEXT,
		.name = "Type text",
		.cmd = "type",
		.source = HA_SRC_RESULT,
		.val_tpl = HA_TPL_CLEAR,
		.icon = "mdi:keyboard",
		.max = HA_STATE_MAX,
	},
	{
		.key = "send_keys",
		.platform = HA_TEXT,
		.name = "Send keys",
		.cmd = "key",
		.source = HA_SRC_RESULT,
		.val_tpl = HA_TPL_CLEAR,
		.icon = "mdi:keyboard-variant",
		.max = HA_STATE_MAX,
	},
	{
		.key = "console_input",
		.platform = HA_TEXT,
		.needs = HA_F_CONSOLE,
		.name = "Console input",
		.cmd = "console",
		.source = HA_SRC_RESULT,
		.val_tpl = HA_TPL_CLEAR,
		.icon = "mdi:console-line",
		.max = HA_STATE_MAX,
	},
	{
		.key = "host_usb",
		.platform = HA_SENSOR,
		.needs = HA_F_USB,
		.name = "Host USB",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ value_json.usb.state if value_json.usb is "
			   "defined else 'unknown' }}",
		.dev_cla = "enum",
		.icon = "mdi:usb",
		.options = HA_OPT_UDC,
	},
	{
		.key = "console",
		.platform = HA_SENSOR,
		.needs = HA_F_CONSOLE,
		.name = "Console",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ (value_json.console.last if value_json.console "
			   "is defined and value_json.console.last is "
			   "defined else '')[:255] }}",
		.icon = "mdi:console",
	},
	{
		.key = "macro",
		.platform = HA_SENSOR,
		.needs = HA_F_MACROS,
		.name = "Macro",
		.source = HA_SRC_STATE,
		.val_tpl = "{% set m = value_json.macro if value_json.macro is "
			   "defined else none %}{{ (m.name if m is mapping and "
			   "m.name is defined and m.name else 'idle')[:255] }}",
		.icon = "mdi:script-text",
	},
	{
		.key = "host_running",
		.platform = HA_BINARY_SENSOR,
		.needs = HA_F_USB,
		.name = "Host running",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ 'ON' if value_json.usb is defined and "
			   "value_json.usb.state == 'configured' else 'OFF' }}",
		.dev_cla = "running",
	},
	{
		.key = "command_result",
		.platform = HA_EVENT,
		.name = "Command result",
		.source = HA_SRC_RESULT,
		.val_tpl = "{{ {'event_type': value_json.status | "
			   "default('error'), 'command': value_json.cmd | "
			   "default(''), 'id': value_json.id | default(''), "
			   "'error': (value_json.error | default(''))[:255]} | "
			   "tojson }}",
		.icon = "mdi:console-network",
		.options = HA_OPT_RESULT,
	},
	{
		.key = "server_phase",
		.platform = HA_SENSOR,
		.name = "Server phase",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ value_json.phase.phase if value_json.phase is "
			   "defined else 'unknown' }}",
		.dev_cla = "enum",
		.icon = "mdi:server-network",
		.options = HA_OPT_PHASE,
	},
	{
		.key = "server_events",
		.platform = HA_EVENT,
		.name = "Server events",
		.source = HA_SRC_EVENT,
		.val_tpl = "{{ {'event_type': value_json.source | "
			   "default('agent'), 'what': value_json.what | "
			   "default('')} | tojson }}",
		.icon = "mdi:timeline-clock",
		.options = HA_OPT_EVENT,
	},
	{
		.key = "uptime",
		.platform = HA_SENSOR,
		.name = "Uptime",
		.source = HA_SRC_STATE,
		.val_tpl = "{{ value_json.uptime_s }}",
		.dev_cla = "duration",
		.ent_cat = "diagnostic",
		.unit = "s",
	},
	{
		.key = "keyboard_leds",
		.platform = HA_SENSOR,
		.name = "Keyboard LEDs",
		.source = HA_SRC_STATE,
		.val_tpl = "{% set l = value_json.keyboard.leds if "
			   "value_json.keyboard is defined and "
			   "value_json.keyboard.leds is defined else {} %}"
			   "{{ ['num' if l.num else '', 'caps' if l.caps else "
			   "'', 'scroll' if l.scroll else ''] | select | "
			   "join(',') or 'none' }}",
		.ent_cat = "diagnostic",
		.icon = "mdi:keyboard-outline",
	},
};
const int ha_ndefs = (int)(sizeof(ha_defs) / sizeof(ha_defs[0]));
