# Sourced by Scripts/sample/render-*.sh: the one way they run a render script in Blender.
#   render_in_blender LABEL SCRIPT [script options...]
# checks that blender, ffmpeg and the mocap (MOCAP_DIR, default ../shared/data/mocap) are there, renders the frames
# into a temporary folder (deleted afterwards unless KEEP_FRAMES=1) at nice 15, passes --mocap and --frames-dir
# before the given options, and keeps only the script's own output lines (Blender prints one per frame rendered).
render_in_blender() {
    local label=$1 script=$2
    shift 2
    command -v blender >/dev/null || { echo "$label: blender not found (apt-get install -y blender python3-numpy)" >&2; return 1; }
    command -v ffmpeg >/dev/null || { echo "$label: ffmpeg not found (apt-get install -y ffmpeg)" >&2; return 1; }
    local mocap=${MOCAP_DIR:-../shared/data/mocap}
    test -f "$mocap/index.json" || { echo "$label: no mocap at $mocap (set MOCAP_DIR)" >&2; return 1; }

    frames=$(mktemp -d "/tmp/$label-frames.XXXXXX")
    [ "${KEEP_FRAMES:-0}" = 1 ] && echo "$label: frames kept in $frames" >&2 || trap 'rm -rf "$frames"' EXIT

    nice -n 15 blender -b --factory-startup --python-exit-code 1 -P "$script" -- \
        --mocap "$mocap" --frames-dir "$frames" "$@" 2>&1 \
        | sed -E '/^(Fra:| Time:|Saved:|$)/d'
}
