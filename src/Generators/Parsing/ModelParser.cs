using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Parsing;

/// <summary>Turns a [Model] class (syntax + semantic model) into a <see cref="ModelSpec"/>. The only stage that sees
/// symbols and syntax; it never throws on incomplete code: what it cannot read becomes an Unsupported node.</summary>
public static class ModelParser
{
    public const string ModelAttributeName = "ModelGen.ModelAttribute";
    public const string LayerAttributeName = "ModelGen.LayerAttribute";
    public const string ShapeAttributeName = "ModelGen.ShapeAttribute";
    public const string ParameterAttributeName = "ModelGen.ParameterAttribute";
    public const string BufferAttributeName = "ModelGen.BufferAttribute";

    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax)
            return null;
        return Parse(type, context.SemanticModel, cancellationToken);
    }

    public static ModelSpec Parse(INamedTypeSymbol type, SemanticModel semanticModel, CancellationToken cancellationToken)
        => Parse(type, semanticModel, cancellationToken, null);

    /// <summary>Parses like the generator does and, when <paramref name="trace"/> is given (the analyzers), also records
    /// where each spec node came from and reads layers created in constructors (<c>fc = new Linear(width, width)</c>).
    /// The generator passes no trace, so its specs and output do not depend on this.</summary>
    public static ModelSpec Parse(INamedTypeSymbol type, SemanticModel semanticModel, CancellationToken cancellationToken, ParseTrace? trace)
    {
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        var containers = new List<ContainingTypeSpec>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            containers.Insert(0, new ContainingTypeSpec(outer.IsRecord ? (outer.TypeKind == TypeKind.Struct ? "record struct" : "record") : outer.TypeKind == TypeKind.Struct ? "struct" : "class", Escape(outer.Name)));

        var layers = new List<LayerSpec>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member is not IFieldSymbol and not IPropertySymbol) continue;
            var tensorAttribute = member.GetAttributes().Select(a => a.AttributeClass?.ToDisplayString()).FirstOrDefault(a => a is ParameterAttributeName or BufferAttributeName);
            if (tensorAttribute is not null)
            {
                layers.Add(ParseTensorField(type, member, tensorAttribute == BufferAttributeName, semanticModel.Compilation, cancellationToken, trace));
                continue;
            }
            if (!member.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == LayerAttributeName))
            {
                if (trace is not null && member is IFieldSymbol { IsStatic: false, IsReadOnly: true } field) FieldConstant(type, field, semanticModel.Compilation, cancellationToken, trace);
                continue;
            }
            var memberType = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
            layers.Add(ParseLayer(type, member, memberType, semanticModel.Compilation, cancellationToken, trace));
        }

        bool hasUserConstructors = type.InstanceConstructors.Any(c => !c.IsImplicitlyDeclared);
        ForwardSpec? forward = null;
        string? unsupported = null;
        var forwardMethod = type.GetMembers("Forward").OfType<IMethodSymbol>().FirstOrDefault();
        if (forwardMethod is null) unsupported = "the class has no Forward method";
        else
        {
            var syntax = forwardMethod.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;
            if (syntax is null) unsupported = "Forward has no source";
            else
            {
                forward = ParseForward(syntax, trace, InputShapes(forwardMethod));
                if (trace is not null) trace.Forward = syntax;
            }
        }
        return new ModelSpec(ns, containers.ToEquatableArray(), Escape(type.Name), hasUserConstructors, layers.ToEquatableArray(), forward, unsupported);
    }

    /// <summary>An identifier as it must be written in C# (keywords get an '@').</summary>
    public static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static LayerSpec ParseLayer(INamedTypeSymbol model, ISymbol member, ITypeSymbol memberType, Compilation compilation, CancellationToken ct, ParseTrace? trace)
    {
        var kind = LayerKind.Unsupported;
        string typeName = memberType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        string original = memberType.OriginalDefinition.ToDisplayString();
        if (original == "ModelGen.Linear") kind = LayerKind.Linear;
        else if (original == "ModelGen.Dropout") kind = LayerKind.Dropout;
        else if (original == "ModelGen.Embedding") kind = LayerKind.Embedding;
        else if (original == "ModelGen.LayerNorm") kind = LayerKind.LayerNorm;
        else if (original == "ModelGen.Conv2d") kind = LayerKind.Conv2d;
        else if (original == "ModelGen.MaxPool2d") kind = LayerKind.MaxPool2d;
        else if (original == "ModelGen.AvgPool2d") kind = LayerKind.AvgPool2d;
        else if (original == "ModelGen.AdaptiveAvgPool2d") kind = LayerKind.AdaptiveAvgPool2d;
        else if (original == "ModelGen.BatchNorm2d") kind = LayerKind.BatchNorm2d;
        else if (original == "ModelGen.Dropout2d") kind = LayerKind.Dropout2d;
        else if (original == "ModelGen.LayerList<T>" && memberType is INamedTypeSymbol { TypeArguments.Length: 1 } list)
        {
            kind = LayerKind.ModelList;
            typeName = list.TypeArguments[0].ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        }
        else if (memberType.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ModelAttributeName)) kind = LayerKind.Model;

        var args = new List<ArgSpec>();
        var declarator = member.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(ct);
        ExpressionSyntax? initializer = declarator switch
        {
            VariableDeclaratorSyntax v => v.Initializer?.Value,
            PropertyDeclarationSyntax p => p.Initializer?.Value,
            _ => null,
        };
        bool fromConstructor = false;
        if (initializer is null && trace is not null)
        {
            initializer = ConstructorAssignment(model, member, ct);
            fromConstructor = initializer is not null;
        }
        ArgumentListSyntax? argList = initializer switch
        {
            ObjectCreationExpressionSyntax o => o.ArgumentList,
            ImplicitObjectCreationExpressionSyntax i => i.ArgumentList,
            _ => null,
        };
        if (argList is not null && initializer is not null)
        {
            var semantic = compilation.GetSemanticModel(initializer.SyntaxTree);
            foreach (var arg in argList.Arguments)
                args.Add(new ArgSpec(arg.NameColon?.Name.Identifier.ValueText, arg.Expression.ToString(), Constant(semantic, arg.Expression, ct)));
        }
        var spec = new LayerSpec(Escape(member.Name), kind, typeName, args.ToEquatableArray());
        if (trace is not null && declarator is not null)
        {
            var layerTrace = new LayerTrace(member, memberType, declarator, initializer, fromConstructor, argList);
            if (initializer is not null && kind is LayerKind.Model or LayerKind.ModelList)
                BindNestedConstructor(layerTrace, kind == LayerKind.Model ? memberType : ((INamedTypeSymbol)memberType).TypeArguments[0], compilation, ct);
            trace.Layers[spec.Name] = layerTrace;
            trace.Origins[spec] = declarator;
        }
        return spec;
    }

    /// <summary>
    /// A [Parameter] or [Buffer] Tensor field: its initializer (or constructor assignment) read as a spec. The factories
    /// <c>Tensor.Zeros/Ones/Rand/Randn(dims…)</c>, <c>Tensor.Full(dims, value)</c> and <c>Init.Zeros/Ones/Constant/
    /// Normal/Uniform([dims…], …)</c> give the dimensions and the initialisation; anything else keeps the values it
    /// computes (AsGiven) with dimensions unknown at compile time. A non-constant argument is kept as written when it is a
    /// field initializer's (evaluated in the class when the model binds); a constructor's may name its parameters, so
    /// then the values are kept as given.
    /// </summary>
    private static LayerSpec ParseTensorField(INamedTypeSymbol model, ISymbol member, bool buffer, Compilation compilation, CancellationToken ct, ParseTrace? trace)
    {
        var kind = buffer ? LayerKind.TensorBuffer : LayerKind.TensorParameter;
        var memberType = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
        var declarator = member.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(ct);
        ExpressionSyntax? initializer = declarator switch
        {
            VariableDeclaratorSyntax v => v.Initializer?.Value,
            PropertyDeclarationSyntax p => p.Initializer?.Value,
            _ => null,
        };
        bool fromConstructor = false;
        if (initializer is null)
        {
            initializer = ConstructorAssignment(model, member, ct);
            fromConstructor = initializer is not null;
        }
        string init = "AsGiven";
        var args = new List<ArgSpec>();
        if (memberType.ToDisplayString() != "ModelGen.Tensor") init = "NotATensor";
        else if (initializer is InvocationExpressionSyntax call)
        {
            var semantic = compilation.GetSemanticModel(call.SyntaxTree);
            if (semantic.GetSymbolInfo(call, ct).Symbol is IMethodSymbol method
                && method.ContainingType.ToDisplayString() is "ModelGen.Tensor" or "ModelGen.Init"
                && TensorFactory(method) is { } factory)
            {
                var values = new Dictionary<string, ArgSpec>();
                var dims = new List<ArgSpec>();
                for (int i = 0; i < call.ArgumentList.Arguments.Count; i++)
                {
                    var arg = call.ArgumentList.Arguments[i];
                    string? name = arg.NameColon?.Name.Identifier.ValueText
                        ?? (i < method.Parameters.Length ? method.Parameters[i].Name : method.Parameters.LastOrDefault()?.Name);
                    if (name is "dims" or "shape")
                    {
                        var elements = ArrayElements(arg.Expression);
                        if (elements is null && method.Parameters.Last().IsParams && arg.NameColon is null) elements = new List<ExpressionSyntax> { arg.Expression };
                        if (elements is null) { dims = null!; break; }
                        dims.AddRange(elements.Select(e => new ArgSpec("dim", e.ToString(), Constant(semantic, e, ct))));
                    }
                    else if (name is not null)
                    {
                        var constant = Constant(semantic, arg.Expression, ct);
                        if (constant is null && fromConstructor) { dims = null!; break; }
                        values[name] = new ArgSpec(name, arg.Expression.ToString(), constant);
                    }
                }
                if (dims is not null)
                {
                    init = factory.Init;
                    args.AddRange(dims);
                    if (factory.A is not null) args.Add(Renamed(values.TryGetValue(factory.A, out var a) ? a : null, "a", factory.DefaultA));
                    if (factory.B is not null) args.Add(Renamed(values.TryGetValue(factory.B, out var b) ? b : null, "b", factory.DefaultB));
                }
            }
        }
        var spec = new LayerSpec(Escape(member.Name), kind, init, args.ToEquatableArray());
        if (trace is not null && declarator is not null)
        {
            trace.Layers[spec.Name] = new LayerTrace(member, memberType, declarator, initializer, fromConstructor, null);
            trace.Origins[spec] = declarator;
        }
        return spec;
    }

    private static ArgSpec Renamed(ArgSpec? arg, string name, double fallback)
        => arg is null ? new ArgSpec(name, fallback.ToString("R", System.Globalization.CultureInfo.InvariantCulture), fallback) : new ArgSpec(name, arg.Text, arg.Constant);

    private sealed record Factory(string Init, string? A, double DefaultA, string? B, double DefaultB);

    /// <summary>What a factory method means as an initialisation: its TensorInit and which parameters are its a and b.</summary>
    private static Factory? TensorFactory(IMethodSymbol method)
    {
        bool dimsFirst = method.Parameters.Length > 0 && method.Parameters[0].Type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Int32 };
        if (!dimsFirst) return null;
        return (method.ContainingType.Name, method.Name) switch
        {
            (_, "Zeros") => new Factory("Zeros", null, 0, null, 0),
            (_, "Ones") => new Factory("Ones", null, 0, null, 0),
            ("Tensor", "Full") => new Factory("Constant", "value", 0, null, 0),
            ("Init", "Constant") => new Factory("Constant", "value", 0, null, 0),
            ("Tensor", "Rand") => new Factory("Uniform", "low", 0, "high", 1),
            ("Tensor", "Randn") => new Factory("Normal", "mean", 0, "std", 1),
            ("Init", "Normal") => new Factory("Normal", "mean", 0, "std", 1),
            ("Init", "Uniform") => new Factory("Uniform", "low", 0, "high", 1),
            _ => null,
        };
    }

    /// <summary>The elements of <c>[512, 64]</c>, <c>new[] { 512, 64 }</c> or <c>new int[] { 512, 64 }</c>; null otherwise.</summary>
    private static List<ExpressionSyntax>? ArrayElements(ExpressionSyntax e) => e switch
    {
        CollectionExpressionSyntax c when c.Elements.All(x => x is ExpressionElementSyntax) => c.Elements.Cast<ExpressionElementSyntax>().Select(x => x.Expression).ToList(),
        ImplicitArrayCreationExpressionSyntax a => a.Initializer.Expressions.ToList(),
        ArrayCreationExpressionSyntax { Initializer: { } i } => i.Expressions.ToList(),
        _ => null,
    };

    /// <summary>A readonly field initialised with a constant and never assigned in a constructor (e.g. <c>readonly int heads = 2;</c>).</summary>
    private static void FieldConstant(INamedTypeSymbol model, IFieldSymbol field, Compilation compilation, CancellationToken ct, ParseTrace trace)
    {
        if (field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(ct) is not VariableDeclaratorSyntax { Initializer.Value: { } value }) return;
        if (ConstructorAssignment(model, field, ct) is not null) return;
        if (Constant(compilation.GetSemanticModel(value.SyntaxTree), value, ct) is double c) trace.FieldConstants[field.Name] = c;
    }

    private static double? Constant(SemanticModel model, ExpressionSyntax expression, CancellationToken ct)
    {
        var constant = model.GetConstantValue(expression, ct);
        return constant.HasValue && constant.Value is not null and not string and not bool
            ? System.Convert.ToDouble(constant.Value, System.Globalization.CultureInfo.InvariantCulture)
            : constant.HasValue && constant.Value is bool b ? (b ? 1 : 0) : null;
    }

    /// <summary>The value assigned to a layer field in an instance constructor (<c>fc = new Linear(w, w);</c> or
    /// <c>this.fc = ...</c>), the first one found.</summary>
    private static ExpressionSyntax? ConstructorAssignment(INamedTypeSymbol model, ISymbol member, CancellationToken ct)
    {
        foreach (var ctor in model.InstanceConstructors)
            foreach (var reference in ctor.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(ct) is not ConstructorDeclarationSyntax syntax) continue;
                var body = (SyntaxNode?)syntax.Body ?? syntax.ExpressionBody;
                if (body is null) continue;
                foreach (var assign in body.DescendantNodes().OfType<AssignmentExpressionSyntax>())
                {
                    if (!assign.IsKind(SyntaxKind.SimpleAssignmentExpression)) continue;
                    if (MemberName(assign.Left) == member.Name) return assign.Right;
                }
            }
        return null;
    }

    /// <summary>For a nested model (or the blocks of a LayerList): the <c>new Block(...)</c> that creates it and which
    /// argument each of its constructor's parameters gets (defaults included), so the shape checker can see the
    /// nested model's symbolic dimensions as the caller's values.</summary>
    private static void BindNestedConstructor(LayerTrace layer, ITypeSymbol modelType, Compilation compilation, CancellationToken ct)
    {
        var semantic = compilation.GetSemanticModel(layer.Initializer!.SyntaxTree);
        foreach (var node in layer.Initializer!.DescendantNodesAndSelf())
        {
            if (node is not BaseObjectCreationExpressionSyntax creation) continue;
            if (!SymbolEqualityComparer.Default.Equals(semantic.GetTypeInfo(creation, ct).Type, modelType)) continue;
            if (semantic.GetSymbolInfo(creation, ct).Symbol is not IMethodSymbol ctor) return;
            layer.NestedCreation = creation;
            var arguments = creation.ArgumentList?.Arguments ?? default;
            for (int p = 0; p < ctor.Parameters.Length; p++)
            {
                var parameter = ctor.Parameters[p];
                if (parameter.IsParams) break;
                ArgumentSyntax? arg = arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == parameter.Name)
                    ?? (p < arguments.Count && arguments[p].NameColon is null ? arguments[p] : null);
                if (arg is not null)
                    layer.NestedBindings[parameter.Name] = new ArgSpec(parameter.Name, arg.Expression.ToString(), Constant(semantic, arg.Expression, ct));
                else if (parameter.HasExplicitDefaultValue && parameter.ExplicitDefaultValue is not null and not string)
                {
                    var value = parameter.ExplicitDefaultValue is bool b ? (b ? 1 : 0)
                        : System.Convert.ToDouble(parameter.ExplicitDefaultValue, System.Globalization.CultureInfo.InvariantCulture);
                    layer.NestedBindings[parameter.Name] = new ArgSpec(parameter.Name, value.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
                }
            }
            return;
        }
    }

    /// <summary>Per Forward parameter, the example shape of its [Shape(1, 28, 28)] attribute as "1,28,28" ("" when none).</summary>
    private static EquatableArray<string> InputShapes(IMethodSymbol forward)
        => forward.Parameters.Select(p =>
        {
            var shape = p.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == ShapeAttributeName);
            if (shape is null || shape.ConstructorArguments.Length != 1) return "";
            var arg = shape.ConstructorArguments[0];
            var values = arg.Kind == TypedConstantKind.Array ? arg.Values : ImmutableArray.Create(arg);
            return values.All(v => v.Value is int)
                ? string.Join(",", values.Select(v => ((int)v.Value!).ToString(System.Globalization.CultureInfo.InvariantCulture)))
                : "";
        }).ToEquatableArray();

    private static ForwardSpec ParseForward(MethodDeclarationSyntax method, ParseTrace? trace, EquatableArray<string> inputShapes)
    {
        var parameters = method.ParameterList.Parameters.Select(p => Escape(p.Identifier.ValueText)).ToEquatableArray();
        var body = new List<StatementSpec>();
        if (method.ExpressionBody is { } arrow) body.Add(Record(trace, new StatementSpec(StatementKind.Return, "", ParseExpression(arrow.Expression, trace), "", EquatableArray<StatementSpec>.Empty), arrow));
        else if (method.Body is { } block) body.AddRange(block.Statements.Select(st => ParseStatement(st, trace)));
        return Record(trace, new ForwardSpec(parameters, body.ToEquatableArray(), inputShapes), method);
    }

    private static T Record<T>(ParseTrace? trace, T spec, SyntaxNode syntax) where T : class
    {
        if (trace is not null) trace.Origins[spec] = syntax;
        return spec;
    }

    private static StatementSpec ParseStatement(StatementSyntax statement, ParseTrace? trace)
    {
        var none = EquatableArray<StatementSpec>.Empty;
        switch (statement)
        {
            case LocalDeclarationStatementSyntax { Declaration.Variables.Count: 1 } local
                when local.Declaration.Variables[0].Initializer is { } init:
                return Record(trace, new StatementSpec(StatementKind.Assign, local.Declaration.Variables[0].Identifier.ValueText, ParseExpression(init.Value, trace), "", none), statement);
            case ExpressionStatementSyntax { Expression: AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression, Left: IdentifierNameSyntax target } assign }:
                return Record(trace, new StatementSpec(StatementKind.Assign, target.Identifier.ValueText, ParseExpression(assign.Right, trace), "", none), statement);
            case ReturnStatementSyntax { Expression: { } value }:
                return Record(trace, new StatementSpec(StatementKind.Return, "", ParseExpression(value, trace), "", none), statement);
            case ForEachStatementSyntax loop when MemberName(loop.Expression) is { } collection:
                var inner = loop.Statement is BlockSyntax b ? b.Statements.Select(st => ParseStatement(st, trace)) : new[] { ParseStatement(loop.Statement, trace) };
                return Record(trace, new StatementSpec(StatementKind.Foreach, loop.Identifier.ValueText, null, collection, inner.ToEquatableArray()), statement);
            default:
                var unsupported = Record(trace, ExpressionSpec.Unsupported(Describe(statement)), statement);
                return Record(trace, new StatementSpec(StatementKind.Assign, "", unsupported, "", none), statement);
        }
    }

    private static string Describe(SyntaxNode node)
    {
        var text = node.ToString();
        return text.Length > 60 ? text.Substring(0, 60) + "…" : text;
    }

    private static string? MemberName(ExpressionSyntax expression) => expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText,
        MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name: var name } => name.Identifier.ValueText,
        _ => null,
    };

    public static ExpressionSpec ParseExpression(ExpressionSyntax expression) => ParseExpression(expression, null);

    /// <summary>The value of <c>double.X</c> / <c>float.X</c> for the constants a mask is filled with.</summary>
    private static double? Constant(bool single, string name) => name switch
    {
        "NegativeInfinity" => double.NegativeInfinity,
        "PositiveInfinity" => double.PositiveInfinity,
        "MinValue" => single ? float.MinValue : double.MinValue,
        "MaxValue" => single ? float.MaxValue : double.MaxValue,
        _ => null,
    };

    private static ExpressionSpec ParseExpression(ExpressionSyntax expression, ParseTrace? trace)
        => Record(trace, ParseExpressionCore(expression, trace), expression);

    private static ExpressionSpec ParseExpressionCore(ExpressionSyntax expression, ParseTrace? trace)
    {
        var none = EquatableArray<ExpressionSpec>.Empty;
        switch (expression)
        {
            case ParenthesizedExpressionSyntax p:
                return ParseExpression(p.Expression, trace);
            case CastExpressionSyntax c when c.Expression is LiteralExpressionSyntax:
                return ParseExpression(c.Expression, trace);
            case IdentifierNameSyntax id:
                return new ExpressionSpec(ExpressionKind.Variable, id.Identifier.ValueText, none);
            case MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name: var thisName }:
                return new ExpressionSpec(ExpressionKind.Variable, thisName.Identifier.ValueText, none);
            case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Weight" or "Bias" } parameter when MemberName(parameter.Expression) is { } owner:
                // a layer's parameter as a tensor (weight tying): "wte.Weight"
                return new ExpressionSpec(ExpressionKind.Variable, owner + "." + parameter.Name.Identifier.ValueText, none);
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.NumericLiteralExpression } lit:
                return new ExpressionSpec(ExpressionKind.Number, lit.Token.Text, none, System.Convert.ToDouble(lit.Token.Value, System.Globalization.CultureInfo.InvariantCulture));
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.TrueLiteralExpression }:
                return new ExpressionSpec(ExpressionKind.Number, "true", none, 1);
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.FalseLiteralExpression }:
                return new ExpressionSpec(ExpressionKind.Number, "false", none, 0);
            case PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.UnaryMinusExpression } neg:
                var operand = ParseExpression(neg.Operand, trace);
                return operand.Kind == ExpressionKind.Number
                    ? operand with { Number = -operand.Number, Name = "-" + operand.Name }
                    : new ExpressionSpec(ExpressionKind.Negate, "-", new[] { operand }.ToEquatableArray());
            case MemberAccessExpressionSyntax { Expression: PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.DoubleKeyword or (int)SyntaxKind.FloatKeyword } type, Name.Identifier.ValueText: var constant }
                when Constant(type.Keyword.RawKind == (int)SyntaxKind.FloatKeyword, constant) is double value:
                // double.NegativeInfinity, float.MinValue: MaskedFill's value
                return new ExpressionSpec(ExpressionKind.Number, expression.ToString(), none, value);
            case BinaryExpressionSyntax bin when bin.Kind() is SyntaxKind.AddExpression or SyntaxKind.SubtractExpression or SyntaxKind.MultiplyExpression or SyntaxKind.DivideExpression
                or SyntaxKind.GreaterThanExpression or SyntaxKind.LessThanExpression or SyntaxKind.GreaterThanOrEqualExpression or SyntaxKind.LessThanOrEqualExpression:
                return new ExpressionSpec(ExpressionKind.Binary, bin.OperatorToken.Text,
                    new[] { ParseExpression(bin.Left, trace), ParseExpression(bin.Right, trace) }.ToEquatableArray());
            case InvocationExpressionSyntax call:
                var args = call.ArgumentList.Arguments.Select(a => Record(trace, ParseExpression(a.Expression, trace) with { ArgName = a.NameColon?.Name.Identifier.ValueText }, a.Expression)).ToEquatableArray();
                switch (call.Expression)
                {
                    case IdentifierNameSyntax fn:
                        return new ExpressionSpec(ExpressionKind.Function, fn.Identifier.ValueText, args);
                    case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Apply" } apply when MemberName(apply.Expression) is { } layer:
                        return new ExpressionSpec(ExpressionKind.LayerCall, layer, args);
                    case MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.ValueText: "Module" }, Name: var staticName }:
                        return new ExpressionSpec(ExpressionKind.Function, staticName.Identifier.ValueText, args);
                    case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Eq" or "Ne" } comparison when call.ArgumentList.Arguments.Count == 1:
                        // a.Eq(b): the function Eq(a, b)
                        var left = ParseExpression(comparison.Expression, trace);
                        return new ExpressionSpec(ExpressionKind.Function, comparison.Name.Identifier.ValueText, new[] { left }.Concat(args).ToEquatableArray());
                    case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Reshape" or "View" } reshape:
                        var target = ParseExpression(reshape.Expression, trace);
                        return new ExpressionSpec(ExpressionKind.Method, "Reshape", new[] { target }.Concat(args).ToEquatableArray());
                }
                break;
        }
        return ExpressionSpec.Unsupported(Describe(expression));
    }
}

/// <summary>What the analyzers learn while parsing beyond the spec (the generator never creates one): the syntax each spec
/// node came from (by reference: specs are value-equal records) and how each layer was declared and created.</summary>
public sealed class ParseTrace
{
    public Dictionary<object, SyntaxNode> Origins { get; } = new(ReferenceComparer.Instance);
    public Dictionary<string, LayerTrace> Layers { get; } = new();
    public MethodDeclarationSyntax? Forward { get; set; }
    /// <summary>Readonly fields with a constant value (symbolic dimensions such as an attention head count).</summary>
    public Dictionary<string, double> FieldConstants { get; } = new();

    private sealed class ReferenceComparer : IEqualityComparer<object>
    {
        public static readonly ReferenceComparer Instance = new();
        public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);
        public int GetHashCode(object obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }
}

/// <summary>A [Layer] member's declaration and creation (initializer or constructor assignment).</summary>
public sealed class LayerTrace
{
    public LayerTrace(ISymbol member, ITypeSymbol type, SyntaxNode declaration, ExpressionSyntax? initializer, bool fromConstructor, ArgumentListSyntax? arguments)
    {
        Member = member;
        Type = type;
        Declaration = declaration;
        Initializer = initializer;
        FromConstructor = fromConstructor;
        Arguments = arguments;
    }

    public ISymbol Member { get; }
    public ITypeSymbol Type { get; }
    /// <summary>The field's variable declarator or the property declaration.</summary>
    public SyntaxNode Declaration { get; }
    /// <summary>The value the layer gets: the initializer, or the right side of its constructor assignment.</summary>
    public ExpressionSyntax? Initializer { get; }
    public bool FromConstructor { get; }
    /// <summary>The arguments of the layer's own creation (<c>new Linear(a, b)</c>), when it is one.</summary>
    public ArgumentListSyntax? Arguments { get; }
    /// <summary>Nested models and LayerLists: the <c>new Block(...)</c> that creates the (element) model.</summary>
    public BaseObjectCreationExpressionSyntax? NestedCreation { get; set; }
    /// <summary>Nested models and LayerLists: the nested model's constructor parameters → the arguments they get.</summary>
    public Dictionary<string, ArgSpec> NestedBindings { get; } = new();
}
