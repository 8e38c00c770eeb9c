// The toolkit's sandboxes run on Linux hosts (QEMU/KVM, libkrun); so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
