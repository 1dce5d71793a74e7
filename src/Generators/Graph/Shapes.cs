using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Generators.Graph;

// The compile-time shape model shared by the analyzers (which report contradictions) and the generator (whose run-time
// guards check what cannot be known at compile time). See docs/diagnostics/README.md for the rules.
//
// A shape is an optional unknown run of leading dimensions (a "rest" variable: the batch and any other leading
// dimensions of a Forward input) followed by known trailing dimensions. A dimension is
//   - a constant (a literal, a const field, a constant constructor argument),
//   - a symbol: a named dimension known only at run time (a constructor parameter such as `width`, a config property
//     such as `config.Hidden`); a symbol equals itself and nothing else is known about it, or
//   - a variable: a dimension still to be inferred (the feature size of an input before a Linear reads it).
// Unification binds variables; two different constants are a certain contradiction (an error); a symbol against a
// constant or another symbol cannot be decided at compile time and is left to the generated run-time guard.

public enum DimKind
{
    Const,
    Symbol,
    Var,
}

/// <summary>One dimension of a compile-time shape (immutable; variables are bound in a <see cref="ShapeUnifier"/>).</summary>
public sealed class Dim
{
    private Dim(DimKind kind, long value, string name, int id)
    {
        Kind = kind;
        Value = value;
        Name = name;
        Id = id;
    }

    public DimKind Kind { get; }
    public long Value { get; }
    public string Name { get; }
    public int Id { get; }

    public static Dim Const(long value) => new(DimKind.Const, value, "", -1);
    public static Dim Symbol(string name) => new(DimKind.Symbol, 0, name, -1);
    internal static Dim Var(int id) => new(DimKind.Var, 0, "", id);

    public override string ToString() => Kind switch
    {
        DimKind.Const => Value.ToString(CultureInfo.InvariantCulture),
        DimKind.Symbol => Name,
        _ => "?",
    };
}

/// <summary>A compile-time shape: <see cref="Rest"/> (unknown leading dimensions, null when the rank is known) then
/// <see cref="Dims"/>.</summary>
public sealed class SymShape
{
    public SymShape(int? rest, IReadOnlyList<Dim> dims)
    {
        Rest = rest;
        Dims = dims;
    }

    public int? Rest { get; }
    public IReadOnlyList<Dim> Dims { get; }

    public static SymShape Scalar { get; } = new(null, new Dim[0]);

    public static SymShape Of(params Dim[] dims) => new(null, dims);
}

public enum Unification
{
    /// <summary>Equal (variables were bound to make them so).</summary>
    Equal,
    /// <summary>Cannot be decided at compile time (symbols): the run-time guard decides.</summary>
    Unknown,
    /// <summary>Certainly different.</summary>
    Conflict,
}

/// <summary>Variables and their bindings for one analysis; unification of dimensions and shapes.</summary>
public sealed class ShapeUnifier
{
    private readonly Dictionary<int, Dim> _dims = new();
    private readonly Dictionary<int, SymShape> _rests = new();
    private int _next;

    public Dim NewDim() => Dim.Var(_next++);

    /// <summary>A shape about which nothing is known (any rank).</summary>
    public SymShape NewShape() => new(_next++, new Dim[0]);

    public Dim Resolve(Dim d)
    {
        while (d.Kind == DimKind.Var && _dims.TryGetValue(d.Id, out var bound)) d = bound;
        return d;
    }

    public SymShape Resolve(SymShape s)
    {
        var dims = s.Dims.Select(Resolve).ToList();
        var rest = s.Rest;
        int guard = 0;
        while (rest is int r && _rests.TryGetValue(r, out var bound) && guard++ < 1000)
        {
            dims.InsertRange(0, bound.Dims.Select(Resolve));
            rest = bound.Rest;
        }
        return new SymShape(rest, dims);
    }

    public Unification Unify(Dim a, Dim b)
    {
        a = Resolve(a);
        b = Resolve(b);
        if (ReferenceEquals(a, b)) return Unification.Equal;
        if (a.Kind == DimKind.Var)
        {
            if (b.Kind != DimKind.Var || b.Id != a.Id) _dims[a.Id] = b;
            return Unification.Equal;
        }
        if (b.Kind == DimKind.Var)
        {
            _dims[b.Id] = a;
            return Unification.Equal;
        }
        if (a.Kind == DimKind.Const && b.Kind == DimKind.Const) return a.Value == b.Value ? Unification.Equal : Unification.Conflict;
        if (a.Kind == DimKind.Symbol && b.Kind == DimKind.Symbol && a.Name == b.Name) return Unification.Equal;
        return Unification.Unknown;
    }

    /// <summary>Unifies two shapes that must be equal (trailing dimensions aligned); ranks that certainly differ conflict.</summary>
    public Unification Unify(SymShape a, SymShape b)
    {
        a = Resolve(a);
        b = Resolve(b);
        int n = System.Math.Min(a.Dims.Count, b.Dims.Count);
        var result = Unification.Equal;
        for (int i = 1; i <= n; i++)
        {
            var r = Unify(a.Dims[a.Dims.Count - i], b.Dims[b.Dims.Count - i]);
            if (r == Unification.Conflict) return r;
            if (r == Unification.Unknown) result = r;
        }
        var aLead = a.Dims.Take(a.Dims.Count - n).ToList();
        var bLead = b.Dims.Take(b.Dims.Count - n).ToList();
        if (aLead.Count == 0 && bLead.Count == 0)
        {
            if (a.Rest == b.Rest) return result;
            if (a.Rest is int ra) _rests[ra] = new SymShape(b.Rest, new Dim[0]);
            else if (b.Rest is int rb) _rests[rb] = SymShape.Scalar;
            return result;
        }
        var (longer, shorter, lead) = aLead.Count > 0 ? (a, b, aLead) : (b, a, bLead);
        if (shorter.Rest is not int rest || rest == longer.Rest) return Unification.Conflict;
        _rests[rest] = new SymShape(longer.Rest, lead);
        return result;
    }

    /// <summary>The last dimension (refining an unknown shape to "… then one dimension"); null for a scalar.</summary>
    public Dim? LastDim(SymShape s)
    {
        s = Resolve(s);
        if (s.Dims.Count > 0) return s.Dims[s.Dims.Count - 1];
        if (s.Rest is not int r) return null;
        var d = NewDim();
        _rests[r] = new SymShape(_next++, new[] { d });
        return d;
    }

    /// <summary>The shape with its last dimension replaced (the shape must have one: see <see cref="LastDim"/>).</summary>
    public SymShape WithLast(SymShape s, Dim last)
    {
        s = Resolve(s);
        var dims = s.Dims.Take(s.Dims.Count - 1).Concat(new[] { last }).ToArray();
        return new SymShape(s.Rest, dims);
    }

    /// <summary>The element count of a shape of known rank: a constant factor times the non-constant dimensions.</summary>
    public (long Constant, List<Dim> Others)? Count(SymShape s)
    {
        s = Resolve(s);
        if (s.Rest is not null) return null;
        long c = 1;
        var others = new List<Dim>();
        foreach (var d in s.Dims)
        {
            if (d.Kind == DimKind.Const) c *= d.Value;
            else others.Add(d);
        }
        return (c, others);
    }

    public string Format(SymShape s)
    {
        s = Resolve(s);
        var parts = new List<string>();
        if (s.Rest is not null) parts.Add("…");
        parts.AddRange(s.Dims.Select(d => d.ToString()));
        return "[" + string.Join(", ", parts) + "]";
    }

    public string Format(Dim d) => Resolve(d).ToString();

    /// <summary>Whether two resolved dimensions are the same unknown (the same variable or the same symbol).</summary>
    public bool Same(Dim a, Dim b)
    {
        a = Resolve(a);
        b = Resolve(b);
        if (ReferenceEquals(a, b)) return true;
        return a.Kind == b.Kind && a.Kind switch
        {
            DimKind.Const => a.Value == b.Value,
            DimKind.Symbol => a.Name == b.Name,
            _ => a.Id == b.Id,
        };
    }
}
