namespace Microsandbox.Tests.MSBuild;

/// <summary>The consumer project: nothing but a PackageReference and targets calling the tasks, as a user would write them.</summary>
internal static class ConsumerProject
{
    public static string Text(string version) => $$"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Microsandbox.MSBuild" Version="{{version}}" />
          </ItemGroup>

          <Target Name="Smoke">
            <MicrosandboxRun Command="echo" Arguments="guest-says;$(Marker)" Env="FROM_BUILD=$(Marker)" Memory="256">
              <Output TaskParameter="ExitCode" PropertyName="RunExitCode" />
              <Output TaskParameter="StandardOutput" PropertyName="RunStdout" />
            </MicrosandboxRun>
            <!-- A relative mount is relative to the project directory. -->
            <WriteLinesToFile File="data/from-host.txt" Lines="host-file-$(Marker)" Overwrite="true" />
            <MicrosandboxRun Script="echo env-is-$FROM_BUILD; cat /data/from-host.txt; echo to-stderr 1>&amp;2" Env="FROM_BUILD=$(Marker)" Mounts="data:/data:ro" />
            <Message Importance="high" Text="exit=$(RunExitCode) stdout=[$(RunStdout)]" />
          </Target>

          <Target Name="TaskHost">
            <MicrosandboxRun Script="echo in-task-host-$(Marker); cat /proc/1/comm" />
          </Target>

          <Target Name="BadInput">
            <MicrosandboxRun Command="echo" Mounts="no-colon" ContinueOnError="true" />
            <MicrosandboxRun Command="echo" Script="echo" ContinueOnError="true" />
            <MicrosandboxRun Command="echo" Timeout="-1" ContinueOnError="true" />
            <MicrosandboxRun Command="echo" StandardOutputImportance="loud" ContinueOnError="true" />
            <MicrosandboxRun Command="echo" Env="NOEQUALS" ContinueOnError="true" />
            <MicrosandboxRun Command="echo" Engine="bogus" ContinueOnError="true" />
            <MicrosandboxExec SandboxName="nope" Command="echo" />
          </Target>

          <Target Name="Fail">
            <MicrosandboxRun Script="echo about-to-fail-$(Marker); exit 7" />
            <Message Importance="high" Text="not reached" />
          </Target>

          <Target Name="Long">
            <MicrosandboxRun Script="echo guest-ready-$(Marker); sleep 300" />
          </Target>

          <Target Name="MultiStart">
            <MicrosandboxStart Name="$(SandboxName)">
              <Output TaskParameter="SandboxName" PropertyName="Sb" />
            </MicrosandboxStart>
          </Target>
          <Target Name="MultiUse" DependsOnTargets="MultiStart">
            <MicrosandboxExec SandboxName="$(Sb)" Script="echo state-$(Marker) > /tmp/state" />
            <MicrosandboxExec SandboxName="$(Sb)" Command="cat" Arguments="/tmp/state">
              <Output TaskParameter="StandardOutput" PropertyName="State" />
            </MicrosandboxExec>
            <MicrosandboxExec SandboxName="$(Sb)" Script="exit 3" ContinueOnError="true">
              <Output TaskParameter="ExitCode" PropertyName="Ignored" />
            </MicrosandboxExec>
            <Message Importance="high" Text="state=[$(State)] ignored=$(Ignored)" />
          </Target>
          <Target Name="Multi" DependsOnTargets="MultiUse">
            <MicrosandboxStop SandboxName="$(Sb)" />
            <MicrosandboxStop SandboxName="$(Sb)" />
            <MicrosandboxExec SandboxName="$(Sb)" Command="true" ContinueOnError="true" />
          </Target>
          <Target Name="MultiFail" DependsOnTargets="MultiUse">
            <Error Text="deliberate failure before MicrosandboxStop" />
            <MicrosandboxStop SandboxName="$(Sb)" />
          </Target>
        </Project>
        """;
}
