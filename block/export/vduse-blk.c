/* placeholder: being written */
#include "qemu/osdep.h"
