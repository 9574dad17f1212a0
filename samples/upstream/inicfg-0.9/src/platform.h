/* platform.h - what inicfg needs to know about the system */
#ifndef INICFG_PLATFORM_H
#define INICFG_PLATFORM_H

#if defined(unix) || defined(__APPLE__)
#define INI_MAX_FILE 65536
#else
#error "inicfg: unsupported platform"
#endif

#endif
