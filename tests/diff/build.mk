# Differential tests of the software CPU against the host CPU
# (tests/diff/README.md): build/tests/difftest, on the sanitizer library.
DIFF_SRCS := $(wildcard tests/diff/*.c)
DIFF_OBJS := $(patsubst tests/diff/%.c,$(BUILD)/obj/diff/%.o,$(DIFF_SRCS))

.PHONY: difftest
difftest: $(BUILD)/tests/difftest

$(BUILD)/obj/diff/%.o: tests/diff/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(ASAN_CFLAGS) -c $< -o $@

$(BUILD)/tests/difftest: $(DIFF_OBJS) $(BUILD)/libosprey-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $(DIFF_OBJS) $(BUILD)/libosprey-asan.a $(LDLIBS)

-include $(DIFF_OBJS:.o=.d)
