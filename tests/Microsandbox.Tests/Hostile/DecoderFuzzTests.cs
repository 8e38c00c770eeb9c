using System.Formats.Cbor;
using System.Reflection;
using CsCheck;
using Microsandbox.Agent;

namespace Microsandbox.Tests.Hostile;

/// <summary>
/// Everything the host decodes from a guest — frame boundaries, the CBOR envelope, every payload type — fed random
/// bytes, random well-formed CBOR of any shape and pathological nesting. The only acceptable outcomes are a decoded
/// value or <see cref="AgentProtocolException"/>: no other exception type, no hang, no crash of the host process.
/// </summary>
public sealed class DecoderFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 4000;

    private static readonly MethodInfo ReadPayload = typeof(AgentMessage).GetMethod(nameof(AgentMessage.ReadPayload))!;

    // The wire types are explicit static interface members: read them through a generic method.
    private static string WireTypeOf(Type payload) =>
        (string)typeof(DecoderFuzzTests).GetMethod(nameof(WireType), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(payload).Invoke(null, null)!;

    private static string WireType<T>() where T : IAgentPayload<T> => T.WireType;

    /// <summary>Every payload record the client can decode (the agent's replies and the relay's messages alike).</summary>
    private static readonly Type[] PayloadTypes = typeof(IAgentPayload<>).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAgentPayload<>) && i.GetGenericArguments()[0] == t))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .ToArray();

    private static readonly Gen<byte[]> RandomBytes = Gen.Byte.Array[0, 512];

    // Arbitrary well-formed CBOR: scalars, strings, arrays and maps nested a few levels, keys that collide with real fields.
    private static readonly Gen<byte[]> RandomCbor = Gen.Int[0, 1_000_000].Select(seed =>
    {
        var random = new Random(seed);
        var writer = new CborWriter(CborConformanceMode.Lax);
        WriteValue(writer, random, depth: 0);
        return writer.Encode();
    });

    private static readonly string[] Keys = ["id", "t", "v", "p", "code", "data", "stdout", "exit_code", "pid", "path", "entries", "size", "mode", "error", "message", "kind", "signal", "x"];

    private static void WriteValue(CborWriter writer, Random random, int depth)
    {
        switch (depth > 4 ? random.Next(6) : random.Next(9))
        {
            case 0: writer.WriteInt64(random.NextInt64(long.MinValue, long.MaxValue)); break;
            case 1: writer.WriteUInt64((ulong)random.NextInt64()); break;
            case 2: writer.WriteTextString(Keys[random.Next(Keys.Length)]); break;
            case 3: writer.WriteByteString(RandomSpan(random)); break;
            case 4: if (random.Next(2) == 0) writer.WriteNull(); else writer.WriteBoolean(random.Next(2) == 0); break;
            case 5: writer.WriteDouble(random.NextDouble() * 1e12); break;
            case 6:
            case 7:
                var fields = random.Next(8);
                writer.WriteStartMap(fields);
                for (int i = 0; i < fields; i++)
                {
                    writer.WriteTextString(Keys[random.Next(Keys.Length)]);
                    WriteValue(writer, random, depth + 1);
                }
                writer.WriteEndMap();
                break;
            default:
                var items = random.Next(6);
                writer.WriteStartArray(items);
                for (int i = 0; i < items; i++) WriteValue(writer, random, depth + 1);
                writer.WriteEndArray();
                break;
        }
    }

    private static byte[] RandomSpan(Random random)
    {
        var bytes = new byte[random.Next(16)];
        random.NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void Every_payload_type_decodes_random_cbor_or_refuses_it_with_a_protocol_error()
    {
        int tried = 0;
        foreach (var type in PayloadTypes)
        {
            var wire = WireTypeOf(type);
            var read = ReadPayload.MakeGenericMethod(type);
            Gen.OneOf(RandomCbor, RandomBytes).Sample(payload =>
            {
                Interlocked.Increment(ref tried);
                var message = new AgentMessage(1, 0, AgentProtocol.Version, wire, payload);
                try
                {
                    read.Invoke(message, null);
                }
                catch (TargetInvocationException e) when (e.InnerException is AgentProtocolException)
                {
                }
            }, iter: Iterations / 4);
        }
        output.WriteLine($"{tried} random payloads tried over {PayloadTypes.Length} payload types");
        Assert.True(PayloadTypes.Length >= 20, $"only {PayloadTypes.Length} payload types found");
    }

    [Fact]
    public void Random_frame_bodies_decode_as_an_envelope_or_fail_with_a_protocol_error()
    {
        int tried = 0;
        Gen.OneOf(RandomBytes, RandomCbor, Envelopes).Sample(body =>
        {
            Interlocked.Increment(ref tried);
            try
            {
                var message = AgentMessage.FromRawFrame(new RawFrame(7, 0, body));
                Assert.NotNull(message.Type);
            }
            catch (AgentProtocolException)
            {
            }
        }, iter: Iterations);
        output.WriteLine($"{tried} random frame bodies tried");
    }

    [Fact]
    public async Task Random_byte_streams_split_into_frames_or_fail_with_a_protocol_error()
    {
        int tried = 0, frames = 0;
        await Gen.OneOf(RandomBytes, FramedStreams).SampleAsync(async bytes =>
        {
            Interlocked.Increment(ref tried);
            var reader = new FrameReader(new MemoryStream(bytes), bufferBytes: 64);
            try
            {
                while (await reader.ReadAsync(CancellationToken.None) is not null) Interlocked.Increment(ref frames);
            }
            catch (AgentProtocolException)
            {
            }
        }, iter: Iterations);
        output.WriteLine($"{tried} random streams tried, {frames} frames split out of them");
    }

    [Theory]
    [InlineData(0x81)] // [[[[…]]]]: arrays nested 200,000 deep
    [InlineData(0xa1)] // {{…: …}}: maps nested as keys
    [InlineData(0x9f)] // indefinite-length arrays, never closed
    public void Pathological_nesting_is_refused_without_exhausting_the_host(byte opener)
    {
        var payload = Enumerable.Repeat(opener, 200_000).Append((byte)0x00).ToArray();
        // The same nesting as the value of a field nobody knows, so the decoders must skip it, not reject its shape.
        byte[] inUnknownField = [0xa1, 0x61, (byte)'x', .. payload];
        foreach (var type in PayloadTypes)
        {
            var wire = WireTypeOf(type);
            foreach (var bytes in new[] { payload, inUnknownField })
            {
                var message = new AgentMessage(1, 0, AgentProtocol.Version, wire, bytes);
                try
                {
                    ReadPayload.MakeGenericMethod(type).Invoke(message, null);
                }
                catch (TargetInvocationException e)
                {
                    Assert.IsType<AgentProtocolException>(e.InnerException);
                }
            }
        }
        var body = new CborWriter();
        body.WriteStartMap(3);
        body.WriteTextString("v"); body.WriteUInt32(AgentProtocol.Version);
        body.WriteTextString("t"); body.WriteTextString("core.exec.stdout");
        body.WriteTextString("p"); body.WriteByteString(payload);
        body.WriteEndMap();
        Assert.Equal("core.exec.stdout", AgentMessage.FromRawFrame(new RawFrame(1, 0, body.Encode())).Type);
        Assert.Throws<AgentProtocolException>(() => AgentMessage.FromRawFrame(new RawFrame(1, 0, payload)));
    }

    // Valid envelopes with random types and payloads, so decoding gets past the envelope.
    private static readonly Gen<byte[]> Envelopes = Gen.Select(Gen.Int[0, 9], Gen.String[0, 20], RandomCbor, (version, type, payload) =>
    {
        var writer = new CborWriter();
        writer.WriteStartMap(3);
        writer.WriteTextString("v"); writer.WriteInt32(version);
        writer.WriteTextString("t"); writer.WriteTextString(type);
        writer.WriteTextString("p"); writer.WriteByteString(payload);
        writer.WriteEndMap();
        return writer.Encode();
    });

    // Streams of length-prefixed frames with random (sometimes lying) lengths and random bodies.
    private static readonly Gen<byte[]> FramedStreams = Gen.Select(Gen.Int[1, 5], Gen.Int[0, 1_000_000], (count, seed) =>
    {
        var random = new Random(seed);
        var stream = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            var body = new byte[random.Next(0, 300)];
            random.NextBytes(body);
            uint length = random.Next(4) == 0 ? (uint)random.NextInt64(0, uint.MaxValue) : (uint)body.Length;
            var prefix = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(prefix, length);
            stream.Write(prefix);
            stream.Write(body);
        }
        return stream.ToArray();
    });
}
