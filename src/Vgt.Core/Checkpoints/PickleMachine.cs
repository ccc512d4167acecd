using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Vgt.Checkpoints;

/// <summary>A Python global (<c>module.name</c>) referenced by a pickle; never resolved or executed.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A Python dict in insertion order (keys: string, long, … compared by value; others by reference).</summary>
internal sealed class PyDict
{
    private static readonly object NoneKey = new();
    private readonly OrderedDictionary<object, object?> _items = new();

    public int Count => _items.Count;
    public void Set(object? key, object? value) => _items[key ?? NoneKey] = value;
    public bool TryGet(string key, out object? value) => _items.TryGetValue(key, out value);
    public IEnumerable<KeyValuePair<object, object?>> Items => _items;
}

/// <summary>An object of a class the reader does not model (numpy arrays, config objects, …): kept opaque.</summary>
internal sealed class PyObject(PyGlobal type, object?[] args)
{
    public PyGlobal Type { get; } = type;
    public object?[] Args { get; } = args;
    public object? State { get; set; }
    public PyDict Items { get; } = new();        // dict subclasses receive SETITEM(S)
    public List<object?> Elements { get; } = []; // list subclasses receive APPEND(S)
}

/// <summary>A storage record of <c>torch.save</c>: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
internal sealed record TorchStorageRef(string Key, string StorageClass, long ElementCount);

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a strided view of a storage.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long StorageOffset, long[] Shape, long[] Stride);

/// <summary>
/// A small pickle interpreter for the data.pkl of <c>torch.save</c> archives (protocols 2–5). It builds plain
/// data (dicts, lists, tuples, numbers, strings) and records tensors; it imports and calls nothing, so a hostile
/// pickle can at worst produce a wrong-looking object. It only moves forward through the bytes (so it always
/// ends), checks every length against the bytes left before allocating, and reports malformed input as
/// <see cref="CheckpointFormatException"/> naming the file and the byte position.
/// </summary>
internal sealed class PickleMachine
{
    private readonly byte[] _data;
    private readonly string _path;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private int _opStart;

    private PickleMachine(byte[] data, string path, Func<object?, object?> persistentLoad)
    {
        _data = data;
        _path = path;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Runs the pickle in <paramref name="data"/> and returns the object it builds.</summary>
    public static object? Run(byte[] data, string path, Func<object?, object?> persistentLoad) =>
        new PickleMachine(data, path, persistentLoad).Execute();

    private CheckpointFormatException Bad(string problem) => new(_path, $"malformed pickle (data.pkl byte {_opStart}): {problem}");

    private object? Execute()
    {
        while (true)
        {
            _opStart = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    if (ReadByte() > 5) throw Bad("pickle protocol above 5");
                    break;
                case 0x95: Take(8); break;                       // FRAME (a size hint only)
                case (byte)'.':                                   // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Bad($"STOP with {_stack.Count} objects on the stack");
                    return _stack[0];
                case (byte)'(': _marks.Push(_stack.Count); break; // MARK
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'}': Push(new PyDict()); break;
                case 0x8f: Push(new List<object?>()); break;      // EMPTY_SET (kept as a list)
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break;                                     // LONG1
                case 0x8b: Push(ReadLong(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))); break; // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': Push(Utf8(Take(ReadLength(4)))); break;           // BINUNICODE
                case 0x8c: Push(Utf8(Take(ReadByte()))); break;                   // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(Take(ReadLength(8)))); break;                // BINUNICODE8
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break;     // SHORT_BINSTRING
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(ReadLength(4)))); break;  // BINSTRING
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break;          // SHORT_BINBYTES
                case (byte)'B': Push(Take(ReadLength(4)).ToArray()); break;       // BINBYTES
                case 0x8e: case 0x96: Push(Take(ReadLength(8)).ToArray()); break; // BINBYTES8, BYTEARRAY8
                case (byte)'c': Push(new PyGlobal(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93:                                                          // STACK_GLOBAL
                {
                    var name = Pop() as string ?? throw Bad("STACK_GLOBAL name is not a string");
                    var module = Pop() as string ?? throw Bad("STACK_GLOBAL module is not a string");
                    Push(new PyGlobal(module, name));
                    break;
                }
                case (byte)'Q': Push(_persistentLoad(Pop())); break;              // BINPERSID
                case (byte)'R':                                                    // REDUCE
                {
                    var args = Pop() as object?[] ?? throw Bad("REDUCE arguments are not a tuple");
                    Push(Reduce(Pop(), args));
                    break;
                }
                case 0x81:                                                         // NEWOBJ
                {
                    var args = Pop() as object?[] ?? throw Bad("NEWOBJ arguments are not a tuple");
                    Push(NewObject(Pop(), args));
                    break;
                }
                case 0x92:                                                         // NEWOBJ_EX
                {
                    Pop(); // kwargs
                    var args = Pop() as object?[] ?? throw Bad("NEWOBJ_EX arguments are not a tuple");
                    Push(NewObject(Pop(), args));
                    break;
                }
                case (byte)'b':                                                    // BUILD
                {
                    var state = Pop();
                    if (Peek() is PyObject o) o.State = state; // dicts (OrderedDict._metadata) and others: state ignored
                    break;
                }
                case (byte)'t': Push(PopToMark().ToArray()); break;                // TUPLE
                case 0x85: Push(new[] { Pop() }); break;                           // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'l': Push(PopToMark()); break;                          // LIST
                case 0x91: Push(PopToMark()); break;                               // FROZENSET (kept as a list)
                case (byte)'d':                                                    // DICT
                {
                    var dict = new PyDict();
                    SetItems(dict, PopToMark());
                    Push(dict);
                    break;
                }
                case (byte)'a': { var v = Pop(); Append(Peek(), [v]); break; }    // APPEND
                case (byte)'e': case 0x90: { var items = PopToMark(); Append(Peek(), items); break; } // APPENDS, ADDITEMS
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItems(Peek(), [k, v]); break; }  // SETITEM
                case (byte)'u': { var items = PopToMark(); SetItems(Peek(), items); break; }        // SETITEMS
                case (byte)'q': _memo[ReadByte()] = Peek(); break;                                  // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break;                                      // MEMOIZE
                case (byte)'h': Push(MemoGet(ReadByte())); break;                                   // BINGET
                case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'0':                                                    // POP
                    if (_marks.Count > 0 && _marks.Peek() == _stack.Count) _marks.Pop();
                    else Pop();
                    break;
                case (byte)'1': PopToMark(); break;                                // POP_MARK
                case (byte)'2': Push(Peek()); break;                               // DUP
                default:
                    throw Bad($"unsupported opcode 0x{op:x2} (not a torch.save pickle?)");
            }
        }
    }

    /// <summary>What a REDUCE builds: tensors and OrderedDicts are understood; everything else stays opaque.</summary>
    private object? Reduce(object? callable, object?[] args)
    {
        if (callable is not PyGlobal g) return new PyObject(new PyGlobal("?", "?"), args);
        switch (g.ToString())
        {
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                if (args.Length < 4 || args[0] is not TorchStorageRef storage || args[1] is not long offset
                    || args[2] is not object?[] size || args[3] is not object?[] stride)
                    throw Bad($"{g} has unexpected arguments");
                return new TorchTensorRef(storage, offset, Longs(size, "size"), Longs(stride, "stride"));
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return args.Length > 0 && args[0] is TorchTensorRef t ? t : throw Bad($"{g} does not wrap a tensor");
            case "collections.OrderedDict":
            case "builtins.dict":
            case "__builtin__.dict":
                return new PyDict();
            case "_codecs.encode":
                return args is [string s, ..] ? Encoding.Latin1.GetBytes(s) : new PyObject(g, args);
            default:
                return new PyObject(g, args);
        }
    }

    private object NewObject(object? cls, object?[] args) => cls switch
    {
        PyGlobal { Module: "collections", Name: "OrderedDict" } => new PyDict(),
        PyGlobal g => new PyObject(g, args),
        _ => throw Bad("NEWOBJ of something that is not a class"),
    };

    private long[] Longs(object?[] items, string what)
    {
        var result = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
            result[i] = items[i] is long v ? v : throw Bad($"tensor {what} holds a non-integer ({items[i]?.GetType().Name ?? "None"})");
        return result;
    }

    private void SetItems(object? target, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Bad("SETITEMS with an odd number of items");
        var dict = target switch
        {
            PyDict d => d,
            PyObject o => o.Items,
            _ => throw Bad($"SETITEM on a {Describe(target)}"),
        };
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
    }

    private void Append(object? target, List<object?> items)
    {
        switch (target)
        {
            case List<object?> l: l.AddRange(items); break;
            case PyObject o: o.Elements.AddRange(items); break;
            default: throw Bad($"APPEND on a {Describe(target)}");
        }
    }

    private static string Describe(object? o) => o?.GetType().Name ?? "None";

    private object? MemoGet(long index) => _memo.TryGetValue(index, out var v) ? v : throw Bad($"memo entry {index} was never stored");

    private void Push(object? o) => _stack.Add(o);

    private object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() == _stack.Count)) throw Bad("stack underflow");
        return _stack[^1];
    }

    private object? Pop()
    {
        var top = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return top;
    }

    private List<object?> PopToMark()
    {
        if (_marks.Count == 0) throw Bad("no MARK on the stack");
        int at = _marks.Pop();
        var items = _stack.GetRange(at, _stack.Count - at);
        _stack.RemoveRange(at, _stack.Count - at);
        return items;
    }

    private byte ReadByte() => _pos < _data.Length ? _data[_pos++] : throw Bad("pickle ends early (truncated)");

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > _data.Length - _pos) throw Bad($"a {count}-byte field runs past the end of the pickle ({_data.Length - _pos} bytes left)");
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private long ReadLength(int width) => width == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4))
        : (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)), long.MaxValue);

    private object ReadLong(int byteCount)
    {
        var bytes = Take(byteCount);
        if (byteCount == 0) return 0L;
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Bad("GLOBAL name without a newline (truncated)");
        var s = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
