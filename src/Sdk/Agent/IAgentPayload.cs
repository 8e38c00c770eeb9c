using System.Formats.Cbor;

namespace Microsandbox.Agent;

/// <summary>
/// A typed message payload: the record behind one wire type, encoded the way upstream's serde + ciborium encode it
/// (structs as definite-length maps with text keys in declaration order, <c>Option</c> as null unless upstream skips it,
/// byte buffers as byte strings).
/// </summary>
/// <typeparam name="TSelf">The payload record itself.</typeparam>
public interface IAgentPayload<TSelf> where TSelf : IAgentPayload<TSelf>
{
    /// <summary>The wire type (<see cref="MessageType"/>) this payload travels as.</summary>
    static abstract string WireType { get; }

    /// <summary>Writes this payload as one CBOR value.</summary>
    void WriteTo(CborWriter writer);

    /// <summary>Reads one payload from CBOR, ignoring unknown fields and defaulting missing optional ones.</summary>
    static abstract TSelf ReadFrom(CborReader reader);
}
