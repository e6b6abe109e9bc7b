#include "threads.h"

#include <pthread.h>

void threads_name_self(const char *name)
{
    char shortname[16];
    size_t i;
    for (i = 0; name[i] && i < sizeof(shortname) - 1; i++)
        shortname[i] = name[i];
    shortname[i] = '\0';
    (void)pthread_setname_np(pthread_self(), shortname);
}
