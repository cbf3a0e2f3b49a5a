/* placeholder: being written */
#include "qemu/osdep.h"
int main(void)
{
    return 1;
}
