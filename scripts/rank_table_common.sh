#!/bin/bash
# Shared by run_distribute_single_node.sh and run_distribute_multi_node.sh: argument checks, the Ascend HCCL
# check, and starting one background process per device with its log in output/log/rank_<id>/mindformer.log.

# check_rank_table_args SCRIPT_NAME "$@": exits 1 with the usage or a one-line reason when the arguments are wrong
check_rank_table_args() {
  local script=$1
  shift
  if [ $# -ne 4 ]; then
    echo "Usage: bash ${script} [EXECUTE_ORDER] [RANK_TABLE_FILE] [DEVICE_RANGE] [RANK_SIZE]"
    echo "e.g.   bash ${script} \"python run_mindformer.py --config configs/llama2/pretrain_llama2_7b.yaml --run_mode train\" /path/hccl_8p.json [0,8] 8"
    exit 1
  fi
  EXECUTE_ORDER=$1
  RANK_TABLE_FILE=$2
  DEVICE_RANGE=$3
  RANK_SIZE=$4
  if ! [[ "${RANK_SIZE}" =~ ^[0-9]+$ ]] || [ "${RANK_SIZE}" -lt 1 ]; then
    echo >&2 "error: RANK_SIZE=${RANK_SIZE} is not a positive number"
    exit 1
  fi
  if ! [[ "${DEVICE_RANGE}" =~ ^\[([0-9]+),([0-9]+)\]$ ]]; then
    echo >&2 "error: DEVICE_RANGE=${DEVICE_RANGE} must look like [START,END] (devices START..END-1), e.g. [0,8]"
    exit 1
  fi
  START_DEVICE=${BASH_REMATCH[1]}
  END_DEVICE=${BASH_REMATCH[2]}
  if [ "${START_DEVICE}" -ge "${END_DEVICE}" ]; then
    echo >&2 "error: DEVICE_RANGE=${DEVICE_RANGE} is empty; END must be greater than START"
    exit 1
  fi
  if [ $((END_DEVICE - START_DEVICE)) -gt "${RANK_SIZE}" ]; then
    echo >&2 "error: DEVICE_RANGE=${DEVICE_RANGE} holds $((END_DEVICE - START_DEVICE)) devices, more than RANK_SIZE=${RANK_SIZE}"
    exit 1
  fi
  if [ ! -f "${RANK_TABLE_FILE}" ]; then
    echo >&2 "error: RANK_TABLE_FILE=${RANK_TABLE_FILE} does not exist; generate it with hccl_tools.py on the Ascend host"
    exit 1
  fi
  RANK_TABLE_FILE=$(realpath "${RANK_TABLE_FILE}")
}

# require_ascend_hccl: rank-table launches need Ascend NPUs and HCCL; elsewhere say so in one line and stop
require_ascend_hccl() {
  if ! python -c "import sys
from mindspore._c_expression import MSContext
sys.exit(0 if MSContext.get_instance().is_pkg_support_device('Ascend') else 1)" >/dev/null 2>&1; then
    echo >&2 "error: this machine has no Ascend HCCL (rank-table launch needs Ascend NPUs); use msrun instead: bash ${SCRIPT_DIR}/msrun_launcher.sh \"${EXECUTE_ORDER#python }\" ${RANK_SIZE}"
    exit 1
  fi
}

# start_ranks RANK_START: one process per device in DEVICE_RANGE, ranks RANK_START, RANK_START+1, ...
start_ranks() {
  local rank_start=$1
  export PYTHONPATH="${SCRIPT_DIR}/../:${PYTHONPATH}"
  export RANK_TABLE_FILE RANK_SIZE
  local log_root=${LOG_MF_PATH:-$(pwd)/output/log}
  export LOG_MF_PATH=${log_root}
  for ((device = START_DEVICE; device < END_DEVICE; device++)); do
    export DEVICE_ID=${device}
    export RANK_ID=$((rank_start + device - START_DEVICE))
    mkdir -p "${log_root}/rank_${RANK_ID}"
    echo "start training for rank ${RANK_ID}, device ${DEVICE_ID}: log in ${log_root}/rank_${RANK_ID}/mindformer.log"
    eval "${EXECUTE_ORDER} --use_parallel True" > "${log_root}/rank_${RANK_ID}/mindformer.log" 2>&1 &
  done
}
