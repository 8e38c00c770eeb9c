namespace Microsandbox.Tests;

/// <summary>
/// What native/build.sh wrote besides the packaged assets — agentctl, the plain rootfs tree — for the tests that need
/// those tools: <c>$MSB_NATIVE_OUT</c> (./build.sh sets it), else the checkout's <c>native/out</c>. Guests never boot
/// from here; they boot from the Microsandbox.Guest.linux-x64 package, as a consumer's do.
/// </summary>
internal static class NativeOutputs
{
    public static string Directory =>
        Environment.GetEnvironmentVariable("MSB_NATIVE_OUT") is { Length: > 0 } dir ? dir : Path.Combine(RepositoryRoot.Find(), "native", "out");
}
