using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Microsandbox.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Microsandbox.Benchmarks.Raw.RawGuest).Assembly).Run(args);
