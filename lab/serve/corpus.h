/* corpus.h - a labelled dump corpus: the dumps of finished runs plus manifest.json,
 * for debugger projects' CI. The manifest format is documented in lab/serve/README.md.
 *
 * Labels come from the run (what the fault was, what the scenario expected, what the
 * run observed); verify re-reads every dump with cl_dump_inspect and checks it still
 * says the same: size, sha256, crash title, kind, OS release, bug check.
 */
#ifndef CL_SERVE_CORPUS_H
#define CL_SERVE_CORPUS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "runs.h"
#include "util/error.h"

#define CL_CORPUS_SCHEMA_VERSION 1
#define CL_CORPUS_MANIFEST_MAX (64u << 20)

/* Writes out_dir (which must not exist) with dumps/ and manifest.json. *count gets the
 * number of dumps kept (after deduplication by crash title + fault). */
bool cl_corpus_build(const cl_runs *runs, const char *out_dir, size_t *count, cl_error **errp);

/* The labels of one run's dump (pure: from its result.json and scenario), or NULL when
 * the run has no dump; why says so. */
json_object *cl_corpus_labels(const cl_run_entry *e, char *why, size_t whylen);

/* Facts an oracle must find that follow from the fault's code (the firing task's state,
 * who holds which lock, the timer's function, the slab cache, the guard page), from the
 * fault id and its ground truth; NULL without a fault. Pure (oracle_expect.c). */
json_object *cl_corpus_oracle_expect(const char *fault, json_object *ground_truth);

/* The entry's "debug" object: kernel release, build-id, Debian debug package and version,
 * vmlinux path (Linux); build and why no PDB identity (Windows). debuginfo.c. */
json_object *cl_corpus_debuginfo(json_object *result);

/* The GNU build-id note of an ELF64 file as hex; false when it has none. */
bool cl_elf_build_id(const char *path, char *out, size_t outlen);

/* Splits a scenario step's params_text ("k=v k=\"v w\"") back into an object (pure). */
json_object *cl_corpus_split_params(const char *text);

/* Reads DIR/manifest.json: a version CL_CORPUS_SCHEMA_VERSION manifest whose dumps[] are
 * objects. NULL (errp set) otherwise. */
json_object *cl_corpus_manifest_load(const char *dir, cl_error **errp);

/* A copy of a regular file into a new one, synced (corpus files are written once). */
bool cl_corpus_copy_file(const char *from, const char *to, cl_error **errp);

/* The entry's "replay" object (corpus_replay.c): replayable with the directory that holds
 * what `crashlab replay` needs (replay/NAME/: the log, domain.xml, the run's result.json
 * with the kernel and initrd pointing into inputs/), or not with why. False only when the
 * corpus cannot be written. */
bool cl_corpus_add_replay(const char *run_dir, json_object *result, const char *partial, const char *name, json_object *l,
                          cl_error **errp);

/* corpus verify --replay: replays every replayable entry with `self replay` (state: its
 * --state, or NULL) and prints ok/MISMATCH/skip per entry; returns the mismatches (a corpus
 * without a replayable entry is one), -1 on a bad corpus. */
int cl_corpus_verify_replay(const char *dir, const char *self, const char *state, FILE *out, cl_error **errp);

/* Checks every dump of a corpus against its labels; prints one line per dump ("ok" or
 * what differs) to out. Returns the number of mismatches, -1 when the corpus itself
 * cannot be read (errp set). */
int cl_corpus_verify(const char *dir, FILE *out, cl_error **errp);

#endif
