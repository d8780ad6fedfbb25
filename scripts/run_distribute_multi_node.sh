#!/bin/bash
# Legacy rank-table launcher (Ascend HCCL), one of several nodes: run it on every node with the same rank
# table; this node's first rank is the rank_id of its first device in the table (matched by server IP).
# Usage: bash run_distribute_multi_node.sh [EXECUTE_ORDER] [RANK_TABLE_FILE] [DEVICE_RANGE] [RANK_SIZE]
# On CPU (or any machine without Ascend HCCL) use scripts/msrun_launcher.sh (its 9-argument multi-node form).
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "${SCRIPT_DIR}/rank_table_common.sh"

check_rank_table_args run_distribute_multi_node.sh "$@"
require_ascend_hccl
RANK_START=$(python - "${RANK_TABLE_FILE}" <<'PY'
import json, socket, subprocess, sys
local = set(subprocess.run(['hostname', '-I'], capture_output=True, text=True).stdout.split()) | {'127.0.0.1'}
local.add(socket.gethostbyname(socket.gethostname()))
with open(sys.argv[1], encoding='utf-8') as stream:
    servers = json.load(stream).get('server_list', [])
for server in servers:
    if server.get('server_id') in local or any(d.get('device_ip') in local for d in server.get('device', [])):
        print(min(int(d['rank_id']) for d in server['device']))
        sys.exit(0)
sys.exit(1)
PY
) || { echo >&2 "error: no server in ${RANK_TABLE_FILE} has this machine's IP; check server_id in the rank table"; exit 1; }
start_ranks "${RANK_START}"
