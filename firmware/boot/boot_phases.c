#include "firmware/boot/boot_phases.h"

#include "firmware/core/loop.h"

void boot_phases_start(struct boot_phases *p, const char *const *names,
		       int count)
{
	*p = (struct boot_phases){.names = names, .count = count};
	p->start_ms = p->since_ms = loop_now_ms();
}

void boot_phases_enter(struct boot_phases *p, int ph)
{
	uint64_t now = loop_now_ms();

	p->took[p->cur] += now - p->since_ms;
	p->cur = ph;
	p->since_ms = now;
}

const char *boot_phases_name(const struct boot_phases *p)
{
	return p->names[p->cur];
}

void boot_phases_report(struct boot_phases *p, bool failed, cJSON **boot,
			cJSON *x)
{
	cJSON *ph = cJSON_CreateObject();

	boot_phases_enter(p, p->cur);
	if (failed)
		cJSON_AddStringToObject(x, "phase", boot_phases_name(p));
	for (int i = 0; i < p->count && i <= p->cur; i++)
		cJSON_AddNumberToObject(ph, p->names[i], (double)p->took[i]);
	cJSON_AddItemToObject(x, "phases", ph);
	if (*boot) {
		cJSON_AddItemToObject(x, "boot", *boot);
		*boot = NULL;
	}
	cJSON_AddNumberToObject(x, "ms", (double)(loop_now_ms() - p->start_ms));
}
