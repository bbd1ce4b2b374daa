# Differential tests of the software CPU against the host CPU
# (tests/diff/README.md): build/tests/difftest, on the sanitizer library.
# Whole archive: weak stand-ins in the library (accel/soft/stubs.c) must
# not hide the real handler tables of later archive members.
DIFF_SRCS := $(wildcard tests/diff/*.c)
DIFF_OBJS := $(patsubst tests/diff/%.c,$(BUILD)/obj/diff/%.o,$(DIFF_SRCS))

.PHONY: difftest
difftest: $(BUILD)/tests/difftest

$(BUILD)/obj/diff/%.o: tests/diff/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(ASAN_CFLAGS) -c $< -o $@

$(BUILD)/tests/difftest: $(DIFF_OBJS) $(BUILD)/libosprey-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $(DIFF_OBJS) -Wl,--whole-archive $(BUILD)/libosprey-asan.a \
		-Wl,--no-whole-archive $(LDLIBS)

-include $(DIFF_OBJS:.o=.d)

# The same without sanitizers, on the release objects: faster, for long
# runs (build/tests/difftest-release --cases 1000000).
DIFF_REL_OBJS := $(patsubst tests/diff/%.c,$(BUILD)/obj/diff-release/%.o,$(DIFF_SRCS))
.PHONY: difftest-release
difftest-release: $(BUILD)/tests/difftest-release

$(BUILD)/obj/diff-release/%.o: tests/diff/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(RELEASE_CFLAGS) -c $< -o $@

$(BUILD)/tests/difftest-release: $(DIFF_REL_OBJS) $(REL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(RELEASE_CFLAGS) -o $@ $(DIFF_REL_OBJS) $(REL_OBJS) $(LDLIBS)

-include $(DIFF_REL_OBJS:.o=.d)
