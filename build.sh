#!/usr/bin/env bash
# Runs the build program: ./build.sh TARGET... [options]   (./build.sh --help lists the targets)
# The program is compiled once into build/bin/run and reused until its sources change.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$root/build/bin/run"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET SDK (dotnet) is not on PATH; install the .NET 10 SDK first" >&2
  exit 127
fi

# Everything the build program is compiled from.
inputs_hash() {
  cd "$root"
  {
    find build -name '*.cs' -not -path 'build/bin/*' -not -path 'build/obj/*' -print0 | sort -z | xargs -0 sha256sum
    # The program references the SDK and the CLI (the Demo target boots a VM through them).
    find src/Sdk src/Cli src/Guest \( -name '*.cs' -o -name '*.csproj' \) -not -path '*/bin/*' -not -path '*/obj/*' -print0 | sort -z | xargs -0 sha256sum
    sha256sum build/Build.csproj Directory.Build.props Directory.Packages.props global.json
  } | sha256sum | cut -d' ' -f1
}

mkdir -p "$root/build/bin"
hash="$(inputs_hash)"
if [[ ! -f "$out/Build.dll" || "$(cat "$out/.inputs.sha256" 2>/dev/null)" != "$hash" ]]; then
  echo "build.sh: compiling the build program"
  # Native has not run yet: the guest package's project may build without its assets here (the Demo target boots
  # from Native's directory directly); Compile builds it with them.
  build=(dotnet build "$root/build/Build.csproj" -c Release -o "$out" -nologo -v q -p:MicrosandboxGuestAssetsOptional=true)
  # MSB_BUILD_LOCK: serialise compiles with other builds sharing this machine (see BuildContext).
  if [[ -n "${MSB_BUILD_LOCK:-}" ]]; then build=(flock "$MSB_BUILD_LOCK" "${build[@]}"); fi
  "${build[@]}" >"$out.log" 2>&1 || { cat "$out.log" >&2; echo "build.sh: the build program does not compile" >&2; exit 1; }
  echo "$hash" >"$out/.inputs.sha256"
fi

exec dotnet "$out/Build.dll" "$@"
