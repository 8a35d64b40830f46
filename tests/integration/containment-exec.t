# containment-exec.t - containment.t again, every run by docker exec instead of the run
# socket (docs/protocol.md, "Transports").
NEXUS_RUN_TRANSPORT=exec
export NEXUS_RUN_TRANSPORT
. "$top_srcdir/tests/integration/containment.t"
