#!/usr/bin/env bash
# A labelled dump corpus from real Linux fault runs: the daemon runs several fault
# scenarios (from restored guests, --warm: their dumps must verify like booted ones), `crashlab corpus build` collects their dumps (one per crash title + fault)
# with manifest.json, and `crashlab corpus verify` re-reads every dump and agrees with its
# labels. Damage to a dump or to a label must make verify fail.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

serve_workdir corpus
"$CRASHLAB" serve --state "$st" --slots 2 --backoff 1 >"$t/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do "$CRASHLAB" status --state "$st" >/dev/null 2>&1 && break; sleep 0.1; done

faults="panic oops use-after-free double-free"
ids=$("$CRASHLAB" submit --state "$st" --accel tcg --warm $(for f in $faults; do echo scenarios/linux/$f.yaml; done))
"$CRASHLAB" wait $ids --timeout 360 --state "$st"
"$CRASHLAB" status --state "$st"
res=$st/results
n=$(ls "$res" | wc -l)
check "corpus: four fault runs finished ($n)" test "$n" = 4
# The same panic run once more under another name: it must be deduplicated.
first=$(ls "$res" | head -1)
cp -a "$res/$first" "$t/copy-of-$first"
check "corpus: build" "$CRASHLAB" corpus build --from "$res" "$t/copy-of-$first" --out "$t/corpus"
m=$t/corpus/manifest.json
withdump=$(for d in "$res"/*; do jq -r 'select(.dump.path != null) | .run_id' "$d/result.json"; done | wc -l)
check "corpus: one dump per run with a dump ($withdump), the copy deduplicated" test "$(jq .count "$m")" = "$withdump"
check "corpus: the copy is listed as a duplicate" bash -c "jq -r '.skipped[].why' '$m' | grep -q '^duplicate of'"
check "corpus: at least three faults in it" test "$(jq '[.dumps[].fault]|unique|length' "$m")" -ge 3
check "corpus: every entry is fully labelled" \
    test "$(jq '[.dumps[] | select(.fault and .crash_title and .kind and .sha256 and .size and .capture_method and .ground_truth and .expected_verdict and .verdict and .os_release and (.params|type=="object"))] | length' "$m")" = "$(jq .count "$m")"
withfp=$(for d in "$res"/*; do jq -r 'select(.dump.path != null and .fingerprint.guest != null) | .run_id' "$d/result.json"; done | wc -l)
check "corpus: fingerprints labelled where the runs recorded them ($withfp)" \
    test "$(jq '[.dumps[] | select(.fingerprint.guest != null)] | length' "$m")" = "$withfp"
check "corpus: labels carry the panic's parameters" \
    test "$(jq -r '.dumps[] | select(.fault=="bugcheck") | .params.message' "$m")" = "crashlab demo panic 0x2a"
check "corpus: files match their sha256" bash -c "cd '$t/corpus' && jq -r '.dumps[] | .sha256+\"  \"+.file' manifest.json | sha256sum -c --quiet"
check "corpus: verify passes" "$CRASHLAB" corpus verify "$t/corpus"

# Damage: one flipped byte in a dump, then a wrong label. verify must say so.
cp -a "$t/corpus" "$t/bad1"
f=$(jq -r '.dumps[0].file' "$m")
printf '\xff' | dd of="$t/bad1/$f" bs=1 seek=4096 conv=notrunc status=none
"$CRASHLAB" corpus verify "$t/bad1" >"$t/bad1.out"
check "corpus: verify fails on a damaged dump (exit 1)" test $? = 1
check "corpus: and names the sha256 mismatch" grep -q "MISMATCH $f: sha256" "$t/bad1.out"
cp -a "$t/corpus" "$t/bad2"
jq '.dumps[0].crash_title = "not what crashed"' "$m" >"$t/bad2/manifest.json"
"$CRASHLAB" corpus verify "$t/bad2" >"$t/bad2.out"
check "corpus: verify fails on a wrong title label (exit 1)" test $? = 1
check "corpus: and names the title" grep -q "MISMATCH $f: title" "$t/bad2.out"
check "corpus: building into an existing directory is refused" bash -c "! '$CRASHLAB' corpus build --from '$res' --out '$t/corpus' 2>/dev/null"
finish
