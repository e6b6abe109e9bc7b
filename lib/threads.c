#include "threads.h"

#include <pthread.h>
#include <stdio.h>

void threads_name_self(const char *name)
{
    char shortname[16]; /* pthread_setname_np refuses more than 15 characters */
    snprintf(shortname, sizeof(shortname), "%s", name);
    (void)pthread_setname_np(pthread_self(), shortname);
}
