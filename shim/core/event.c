/* event.c: where the core's change reports go (see unionshim/event.h). */
#include "unionshim/event.h"

us_event_fn us_event_hook;
