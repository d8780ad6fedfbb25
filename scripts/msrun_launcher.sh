#!/bin/bash
# Launch a mindformers command on several workers with MindSpore's msrun (data parallel on CPU).
#
# Forms (upstream MindFormers msrun_launcher.sh):
#   1 arg : EXECUTE_ORDER                                    single node, 8 workers
#   2 args: EXECUTE_ORDER WORKER_NUM                         single node
#   6 args: EXECUTE_ORDER WORKER_NUM MASTER_PORT LOG_DIR JOIN CLUSTER_TIME_OUT          single node
#   9 args: EXECUTE_ORDER WORKER_NUM LOCAL_WORKER MASTER_ADDR MASTER_PORT NODE_RANK LOG_DIR JOIN CLUSTER_TIME_OUT
#           multi node (run the same command on every node, each with its own NODE_RANK)

usage() {
  echo "Usage: bash msrun_launcher.sh [EXECUTE_ORDER] (single node, 8 workers by default)"
  echo "       bash msrun_launcher.sh [EXECUTE_ORDER] [WORKER_NUM] (single node)"
  echo "       bash msrun_launcher.sh [EXECUTE_ORDER] [WORKER_NUM] [MASTER_PORT] [LOG_DIR] [JOIN] [CLUSTER_TIME_OUT] (single node)"
  echo "       bash msrun_launcher.sh [EXECUTE_ORDER] [WORKER_NUM] [LOCAL_WORKER] [MASTER_ADDR] [MASTER_PORT] [NODE_RANK] [LOG_DIR] [JOIN] [CLUSTER_TIME_OUT] (multi node)"
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONPATH="${SCRIPT_DIR}/../:${PYTHONPATH}"

if [ -n "${MF_LOG_SUFFIX}" ]; then
  MF_LOG_SUFFIX="_${MF_LOG_SUFFIX}"
fi
# where the mindformers logger writes rank_<i>/{info,error}.log; a value the user set wins (upstream v1.5)
if [ -z "${LOG_MF_PATH}" ]; then
  export LOG_MF_PATH="$(pwd)/output/log${MF_LOG_SUFFIX}"
fi
if [ -n "${PLOG_REDIRECT_TO_OUTPUT}" ] && [ "${PLOG_REDIRECT_TO_OUTPUT}" != "False" ]; then
  export ASCEND_PROCESS_LOG_PATH="$(pwd)/output/plog${MF_LOG_SUFFIX}"
  echo "Ascend plog is redirected to ${ASCEND_PROCESS_LOG_PATH}"
fi

# upstream defaults
WORKER_NUM=8
LOCAL_WORKER=8
MASTER_ADDR="127.0.0.1"
MASTER_PORT=8118
NODE_RANK=0
LOG_DIR="output/msrun_log"
JOIN="False"
CLUSTER_TIME_OUT=7200
SINGLE_NODE=true

if [ $# -eq 1 ]; then
  echo "No parameter is entered. Notice that the program will run on default 8 cards."
elif [ $# -eq 2 ]; then
  WORKER_NUM=$2
  LOCAL_WORKER=$2
elif [ $# -eq 6 ]; then
  WORKER_NUM=$2
  LOCAL_WORKER=$2
  MASTER_PORT=$3
  LOG_DIR=$4
  JOIN=$5
  CLUSTER_TIME_OUT=$6
elif [ $# -eq 9 ]; then
  WORKER_NUM=$2
  LOCAL_WORKER=$3
  MASTER_ADDR=$4
  MASTER_PORT=$5
  NODE_RANK=$6
  LOG_DIR=$7
  JOIN=$8
  CLUSTER_TIME_OUT=$9
  if [ "${WORKER_NUM}" == "${LOCAL_WORKER}" ]; then
    echo "WORKER_NUM is equal to LOCAL_WORKER, the job runs on a single node."
  else
    SINGLE_NODE=false
  fi
else
  usage
  exit 1
fi
EXECUTE_ORDER=$1

if ! [[ "${WORKER_NUM}" =~ ^[0-9]+$ ]]; then
  echo "error: WORKER_NUM=${WORKER_NUM} is not a number; pass the number of workers, e.g. 2"
  exit 1
fi
if [ "${WORKER_NUM}" -eq 1 ]; then
  echo "WORKER_NUM is 1: msrun is not needed, run the command directly, e.g. python ${EXECUTE_ORDER}"
  exit 1
fi
LOG_DIR="${LOG_DIR}${MF_LOG_SUFFIX}"
if ! [[ "${CLUSTER_TIME_OUT}" =~ ^[0-9]+$ ]]; then
  echo "error: CLUSTER_TIME_OUT=${CLUSTER_TIME_OUT} is not a number of seconds"
  exit 1
fi
# how long the scheduler waits for a silent worker before it ends the job: at most CLUSTER_TIME_OUT, and
# MindSpore's 30 s otherwise, so a job whose worker died fails within CLUSTER_TIME_OUT plus a few seconds
if [ -z "${MS_NODE_TIMEOUT}" ]; then
  export MS_NODE_TIMEOUT=$(( CLUSTER_TIME_OUT < 30 ? CLUSTER_TIME_OUT : 30 ))
fi

ulimit -u unlimited 2>/dev/null

if [ "${SINGLE_NODE}" == true ]; then
  MSRUN_CMD="msrun --worker_num=${WORKER_NUM} --local_worker_num=${LOCAL_WORKER} --master_port=${MASTER_PORT} \
--log_dir=${LOG_DIR} --join=${JOIN} --cluster_time_out=${CLUSTER_TIME_OUT} ${EXECUTE_ORDER}"
else
  echo "Multi-node job: run the same command on every other node with its own NODE_RANK " \
       "(this node is NODE_RANK ${NODE_RANK}; ${WORKER_NUM} workers in total, ${LOCAL_WORKER} here)."
  MSRUN_CMD="msrun --worker_num=${WORKER_NUM} --local_worker_num=${LOCAL_WORKER} --master_addr=${MASTER_ADDR} \
--master_port=${MASTER_PORT} --node_rank=${NODE_RANK} --log_dir=${LOG_DIR} --join=${JOIN} \
--cluster_time_out=${CLUSTER_TIME_OUT} ${EXECUTE_ORDER}"
fi

echo "Running Command: ${MSRUN_CMD}"
echo "Please check log files in $(pwd)/${LOG_DIR}"
if [ "${JOIN}" != "True" ]; then
  eval "${MSRUN_CMD}"
  exit $?
fi

# JOIN=True: msrun waits for the workers and stops all of them when one fails; name the rank that failed
mkdir -p "${LOG_DIR}"
eval "${MSRUN_CMD}" 2>&1 | tee "${LOG_DIR}/msrun_launcher.log"
STATUS=${PIPESTATUS[0]}
if [ "${STATUS}" -ne 0 ]; then
  grep -oE "Worker process [0-9]+ exit with exception. Error code: -?[0-9]+" "${LOG_DIR}/msrun_launcher.log" |
  while read -r _ _ PID _ _ _ _ _ CODE; do
    WORKER_LOG=$(grep -lE "rank [0-9]+ of [0-9]+ started, pid ${PID}$" "${LOG_DIR}"/worker_*.log 2>/dev/null | head -1)
    RANK=$(grep -ohE "rank [0-9]+ of [0-9]+ started, pid ${PID}$" "${WORKER_LOG:-/dev/null}" | head -1 | cut -d' ' -f2)
    if [ "${CODE}" -lt 0 ]; then REASON="was killed by signal $((-CODE))"; else REASON="exited with code ${CODE}"; fi
    echo "error: rank ${RANK:-unknown} (pid ${PID}, log ${WORKER_LOG:-${LOG_DIR}}) ${REASON}; msrun stopped the other workers"
  done
  echo "error: distributed job failed (msrun exit code ${STATUS}); to resume, add --resume_training True --load_checkpoint <output_dir>/checkpoint to the command"
fi
exit "${STATUS}"
