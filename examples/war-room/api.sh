#!/usr/bin/env bash
# The war room's API from a script: who am I, the open incidents, the
# timeline of one, then the review of its drafted status-page update
# (approve, publish) and the public status page.
#
# Against the demo (`cargo run -- demo` prints the URL and the tokens):
#   BASE=http://127.0.0.1:8788 TOKEN=fbk_… ./examples/war-room/api.sh 1
# Against your daemon: `firebreak token create --member NAME --plan PLAN`.
set -euo pipefail
: "${BASE:?set BASE to the war room URL, e.g. http://127.0.0.1:8787}"
: "${TOKEN:?set TOKEN to a member token (firebreak token create)}"
incident="${1:-1}"
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
show() { python3 -m json.tool; }

echo "== who am I"
api "$BASE/api/v1/me" | show

echo "== open incidents"
api "$BASE/api/v1/incidents?status=detected,acknowledged,contained" | show

echo "== incident $incident: steps, and the last five timeline entries"
api "$BASE/api/v1/incidents/$incident/steps" | show
api "$BASE/api/v1/incidents/$incident/timeline" |
  python3 -c '
import json, sys
d = json.load(sys.stdin)
print("hash chain verified:", d["verified"])
for e in d["entries"][-5:]:
    print("%3d %-24s %s" % (e["seq"], e["kind"], e["text"]))'

echo "== drafts waiting for review"
drafts=$(api "$BASE/api/v1/incidents/$incident/announcements" |
  python3 -c 'import json,sys; print(" ".join(str(a["id"]) for a in json.load(sys.stdin)["announcements"] if a["state"] != "published"))')
for id in $drafts; do
  state=$(api "$BASE/api/v1/incidents/$incident/announcements" |
    python3 -c "import json,sys; print(next(a['state'] for a in json.load(sys.stdin)['announcements'] if a['id'] == $id))")
  if [ "$state" = draft ]; then
    echo "approving announcement $id"
    api -X POST "$BASE/api/v1/announcements/$id/approve" >/dev/null
  fi
  echo "publishing announcement $id"
  api -X POST "$BASE/api/v1/announcements/$id/publish" | show
done

echo "== the public status page (no token)"
curl -fsS "$BASE/status.json" | show
