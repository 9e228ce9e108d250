/* rtld/stub.c: a stand-in for ld.so at link time only. The audit library
 * is linked against this, not against ld.so itself, so that its DT_NEEDED
 * entry is ld.so's full path (this stub's soname): ld.so then opens that
 * path directly in the audit namespace instead of looking the bare name
 * up in ld.so.cache first (an open, a mapping and an unmapping of the
 * cache per exec). At run time the names bind to ld.so's own definitions,
 * by the same versions (stub.map). Never installed, never loaded. */
void *__libc_stack_end;
void _dl_rtld_di_serinfo(void);

void _dl_rtld_di_serinfo(void)
{
}
