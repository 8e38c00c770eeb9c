// Sandboxes run on Linux hosts; so do their benchmarks.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
