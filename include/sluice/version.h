/* The version every sluice program reports (--version). */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

#endif
