/* startdata.h: where the globals that every process start writes live.
 *
 * Each page of the library's zero-filled data that a process writes costs
 * it a page fault (~2.4 us on a virtual machine), and the constructor of
 * a union process used to write seven such pages, one small word or two
 * on each, in every exec. Globals marked US_START_DATA are gathered in
 * the library's initialised data instead, beside the data and the
 * relocated words the loader writes anyway: no page of their own. Only
 * small globals the start writes belong here (a few KiB at most): big
 * buffers would spread this section over pages of its own again. */
#ifndef UNIONSHIM_STARTDATA_H
#define UNIONSHIM_STARTDATA_H

#define US_START_DATA __attribute__((section(".data.us_start")))

#endif
