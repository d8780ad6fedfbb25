#!/bin/bash
# Legacy rank-table launcher (Ascend HCCL), one node: one process per device in DEVICE_RANGE.
# Usage: bash run_distribute_single_node.sh [EXECUTE_ORDER] [RANK_TABLE_FILE] [DEVICE_RANGE] [RANK_SIZE]
# On CPU (or any machine without Ascend HCCL) use scripts/msrun_launcher.sh.
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "${SCRIPT_DIR}/rank_table_common.sh"

check_rank_table_args run_distribute_single_node.sh "$@"
require_ascend_hccl
start_ranks 0
