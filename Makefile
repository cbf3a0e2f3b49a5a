# Thin wrapper: the build is meson + ninja.  ./configure creates $(BUILD).
BUILD ?= build

.PHONY: all check check-unit check-iotests check-zoned check-vduse install clean distclean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	./configure --builddir=$(BUILD)

check: all
	meson test -C $(BUILD) --print-errorlogs

check-unit: all
	meson test -C $(BUILD) --print-errorlogs --suite unit

check-iotests: all
	meson test -C $(BUILD) --print-errorlogs --suite iotests

# Zoned tests in a QEMU guest with zoned null_blk (docs/testing-vm.md).  The first run
# sets the guest up (apt packages, kernel, initramfs; needs root) in build-vm/.
# ZONED_TESTS: name patterns to run a subset (all tests by default).
check-zoned: all
	BUILD=$(BUILD) tests/vm/run-suite.sh $(ZONED_TESTS)

# The VDUSE export tests alone (tests/vm/tests/1NN-*).
check-vduse: all
	BUILD=$(BUILD) tests/vm/run-suite.sh vduse

install: all
	meson install -C $(BUILD)

clean:
	-ninja -C $(BUILD) clean

distclean:
	rm -rf $(BUILD)
