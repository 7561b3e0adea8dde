# pg_standby: restore_command for a warm standby, and pg_standby_archive,
# the archive module that feeds it; built with PGXS or in contrib/pg_standby
# of a PostgreSQL source tree.

PGFILEDESC = "pg_standby - restore_command for a warm standby"
PGAPPICON = win32

MODULES = pg_standby_archive

PROGRAM = pg_standby
OBJS = \
	$(WIN32RES) \
	archive_format.o \
	cleanup.o \
	copycheck.o \
	datadir.o \
	note.o \
	pg_standby.o \
	promote.o \
	readahead.o \
	restore.o \
	segbuf.o \
	serverconf.o \
	trigger.o \
	verify.o \
	verify_check.o \
	verify_judge.o \
	verify_report.o \
	wait.o \
	walfile.o \
	walrecord.o

PG_LIBS_INTERNAL = -L$(top_builddir)/src/fe_utils -L$(pkglibdir) -lpgfeutils

# "make installcheck" needs no running server: pg_regress starts a
# temporary instance that archives, and the TAP tests start their own.
REGRESS = archive_setup backup_functions restore_command archive_module archive_refusals
REGRESS_OPTS = --temp-instance=./tmp_regress --temp-config=$(srcdir)/sql/archiving.conf
TAP_TESTS = 1
EXTRA_CLEAN = tmp_regress

# libFuzzer targets (clang): "make fuzz" builds them, "make fuzz-run" runs
# each for FUZZ_SECONDS from the seed corpus in fuzz/corpus/.
FUZZ_TARGETS = fuzz/fuzz_decompress fuzz/fuzz_names fuzz/fuzz_options fuzz/fuzz_records \
	fuzz/fuzz_segment
# Each target links pg_standby's files but pg_standby.c (main() and the
# options) and --verify's, whose usage errors pg_standby.c reports; the
# command line's target includes pg_standby.c and links those too.
FUZZ_SOURCES = $(filter-out pg_standby.c verify%.c,$(patsubst %.o,%.c,$(filter %.o,$(OBJS))))
FUZZ_VERIFY_SOURCES = $(filter verify%.c,$(patsubst %.o,%.c,$(filter %.o,$(OBJS))))
FUZZ_HEADERS = $(wildcard *.h)
FUZZ_CC = clang
FUZZ_CFLAGS = -DFRONTEND -pthread -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wno-ignored-attributes
FUZZ_SECONDS = 20
EXTRA_CLEAN += $(FUZZ_TARGETS) tmp_fuzz archive_format_srv.o

ifdef USE_PGXS
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
# With PGXS, each compression library whose header is found: a server's
# packages need not bring the headers (Debian's postgresql-server-dev-NN
# does not depend on liblz4-dev).
hash := \#
have_header = $(shell printf '$(hash)include <$(1)>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo yes)
have_zlib := $(call have_header,zlib.h)
have_lz4 := $(call have_header,lz4frame.h)
have_zstd := $(call have_header,zstd.h)
else
subdir = contrib/pg_standby
top_builddir = ../..
include $(top_builddir)/src/Makefile.global
# In a source tree, the libraries it is configured with: with_zlib, and
# LIBS, which names -llz4 and -lzstd after --with-lz4 and --with-zstd
# (Makefile.global has no with_lz4 or with_zstd up to PostgreSQL 17).
have_zlib := $(with_zlib)
have_lz4 := $(if $(filter -llz4,$(LIBS)),yes)
have_zstd := $(if $(filter -lzstd,$(LIBS)),yes)
endif

# Compressed archives: each of zlib, liblz4 and libzstd found above is
# used, by pg_standby to restore and by pg_standby_archive to archive; a
# missing one only leaves its format out.
ifeq ($(have_zlib),yes)
PG_CPPFLAGS += -DPG_STANDBY_GZIP
COMPRESSION_LIBS += -lz
else
$(info pg_standby: no zlib: .gz archives will be neither restored nor archived (install zlib1g-dev))
endif
ifeq ($(have_lz4),yes)
PG_CPPFLAGS += -DPG_STANDBY_LZ4
COMPRESSION_LIBS += -llz4
else
$(info pg_standby: no liblz4: .lz4 archives will be neither restored nor archived (install liblz4-dev))
endif
ifeq ($(have_zstd),yes)
PG_CPPFLAGS += -DPG_STANDBY_ZSTD
COMPRESSION_LIBS += -lzstd
else
$(info pg_standby: no libzstd: .zst archives will be neither restored nor archived (install libzstd-dev))
endif
PG_LIBS = $(COMPRESSION_LIBS)

ifdef USE_PGXS
# Neither a program nor an archive module has any use for LLVM bitcode.
override with_llvm = no
include $(PGXS)
# LIBS names every library the server links; pg_standby needs only these.
LIBS := $(filter -lpgcommon -lpgport -lm,$(LIBS))
else
include $(top_srcdir)/contrib/contrib-global.mk
endif

# pg_standby --verify checks several segments at a time in threads
# (verify_check.c), as pgbench runs its clients in threads.
override CFLAGS += $(PTHREAD_CFLAGS)
LIBS += $(PTHREAD_LIBS)

# What the tests run and load: the pg_standby and pg_standby_archive just
# built, or with PG_STANDBY_INSTALLED=1 the installed ones (debian/tests).
# The TAP tests take their paths from the environment; pg_regress loads
# the module from its --dlpath and the SQL runs the first pg_standby on
# PATH.
ifdef PG_STANDBY_INSTALLED
tested_bindir = $(bindir)
tested_libdir = $(pkglibdir)
else
tested_bindir = $(CURDIR)
tested_libdir = $(CURDIR)
endif
export PG_STANDBY_PROGRAM = $(tested_bindir)/pg_standby
export PG_STANDBY_MODULE = $(tested_libdir)/pg_standby_archive
REGRESS_OPTS += --dlpath=$(tested_libdir)
export PATH := $(tested_bindir):$(PATH)

# archive_format.c is built twice, as src/common's files are: with
# FRONTEND for pg_standby, and as archive_format_srv.o for the module,
# which PGXS links from its own object ($<) followed by LDFLAGS_SL: the
# second object and the compression libraries go there, for the module
# alone.
archive_format.o: override CPPFLAGS += -DFRONTEND
archive_format_srv.o: archive_format.c
	$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<
pg_standby_archive$(DLSUFFIX): archive_format_srv.o
pg_standby_archive$(DLSUFFIX): override LDFLAGS_SL += archive_format_srv.o $(COMPRESSION_LIBS)
# The module runs inside the server, which is not built with sanitizers: an
# instrumented module could not even be loaded there.  "COPT=-fsanitize=..."
# instruments pg_standby alone.
no_sanitizers = $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(1))
pg_standby_archive.o archive_format_srv.o pg_standby_archive$(DLSUFFIX): override CFLAGS := \
	$(call no_sanitizers,$(CFLAGS))
pg_standby_archive$(DLSUFFIX): override LDFLAGS := $(call no_sanitizers,$(LDFLAGS))

# The tests across hosts (t/hosts/) make network namespaces, so they run as
# root, unlike "installcheck", whose servers refuse root: "make
# installcheck-hosts" as root (scripts/test-hosts.sh builds as the servers'
# user first).  Without root or namespaces, each file skips and says why.
HOSTS_TESTS = $(wildcard $(srcdir)/t/hosts/*.pl)
installcheck-hosts:
	PG_BINDIR='$(bindir)' $(PROVE) --timer -I $(srcdir)/t/hosts $(HOSTS_TESTS)

.PHONY: installcheck-hosts

fuzz: $(FUZZ_TARGETS)

fuzz/fuzz_decompress fuzz/fuzz_names fuzz/fuzz_records fuzz/fuzz_segment: fuzz/%: fuzz/%.c $(FUZZ_SOURCES) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) -o $@ $< $(FUZZ_SOURCES) -L$(pkglibdir) -lpgcommon -lpgport -lm $(COMPRESSION_LIBS)

fuzz/fuzz_options: fuzz/fuzz_options.c pg_standby.c $(FUZZ_SOURCES) $(FUZZ_VERIFY_SOURCES) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) -o $@ $< $(FUZZ_SOURCES) $(FUZZ_VERIFY_SOURCES) -L$(pkglibdir) -lpgfeutils -lpgcommon -lpgport -lm $(COMPRESSION_LIBS)

fuzz-run: fuzz
	@for target in $(FUZZ_TARGETS); do \
		name=$${target#fuzz/fuzz_}; \
		rm -rf tmp_fuzz/$$name && mkdir -p tmp_fuzz/$$name && \
		echo "fuzzing $$name for $(FUZZ_SECONDS) s" && \
		./$$target -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -close_fd_mask=3 \
			-artifact_prefix=tmp_fuzz/$$name- \
			tmp_fuzz/$$name fuzz/corpus/$$name 2>tmp_fuzz/$$name.log || \
			{ tail -40 tmp_fuzz/$$name.log; exit 1; }; \
		grep -E "^stat::number_of_executed_units|^Done" tmp_fuzz/$$name.log; \
	done

.PHONY: fuzz fuzz-run

# Formatting: PostgreSQL's pgindent over every C file (scripts/pgindent.sh
# fetches the tools); "pgindent-check" changes nothing and fails on a diff.
pgindent:
	bash scripts/pgindent.sh

pgindent-check:
	bash scripts/pgindent.sh --check

.PHONY: pgindent pgindent-check

# Benchmarks (bench/, results in BENCHMARKS.md): never part of the tests.
# About 12 minutes on 2 cores; "QUICK=1" runs them with tiny counts.
bench:
	bash bench/run-all.sh

# Fault soak (bench/soak.pl, figures in RELIABILITY.md): SOAK_SECONDS long
# (default 180), faults seeded by SOAK_SEED (default: the time).
SOAK_SECONDS ?= 180
soak:
	bash scripts/soak.sh $(SOAK_SECONDS) $(SOAK_SEED)

.PHONY: bench soak
