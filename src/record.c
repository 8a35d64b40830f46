/* record.c - sandbox records: freeing them, and writing them as the JSON
 * shapes of the CLI contract. */
#include <string.h>

#include "util.h"

void nx_sandbox_clear(nx_sandbox *sb)
{
	free(sb->name);
	free(sb->user_id);
	free(sb->agent_id);
	free(sb->tenant_id);
	free(sb->provider);
	free(sb->template_id);
	free(sb->handle);
	free(sb->provider_status);
	memset(sb, 0, sizeof *sb);
}

void nx_sandbox_array_clear(nx_sandbox_array *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		nx_sandbox_clear(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
