using System.Collections.Generic;
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

    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax)
            return null;
        return Parse(type, context.SemanticModel, cancellationToken);
    }

    public static ModelSpec Parse(INamedTypeSymbol type, SemanticModel semanticModel, CancellationToken cancellationToken)
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
            if (!member.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == LayerAttributeName)) continue;
            var memberType = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
            layers.Add(ParseLayer(member, memberType, semanticModel.Compilation, cancellationToken));
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
            else forward = ParseForward(syntax);
        }
        return new ModelSpec(ns, containers.ToEquatableArray(), Escape(type.Name), hasUserConstructors, layers.ToEquatableArray(), forward, unsupported);
    }

    /// <summary>An identifier as it must be written in C# (keywords get an '@').</summary>
    public static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static LayerSpec ParseLayer(ISymbol member, ITypeSymbol memberType, Compilation compilation, CancellationToken ct)
    {
        var kind = LayerKind.Unsupported;
        string typeName = memberType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        string original = memberType.OriginalDefinition.ToDisplayString();
        if (original == "ModelGen.Linear") kind = LayerKind.Linear;
        else if (original == "ModelGen.Dropout") kind = LayerKind.Dropout;
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
        ArgumentListSyntax? argList = initializer switch
        {
            ObjectCreationExpressionSyntax o => o.ArgumentList,
            ImplicitObjectCreationExpressionSyntax i => i.ArgumentList,
            _ => null,
        };
        if (argList is not null && declarator is not null)
        {
            var model = compilation.GetSemanticModel(declarator.SyntaxTree);
            foreach (var arg in argList.Arguments)
            {
                var constant = model.GetConstantValue(arg.Expression, ct);
                double? value = constant.HasValue && constant.Value is not null and not string and not bool
                    ? System.Convert.ToDouble(constant.Value, System.Globalization.CultureInfo.InvariantCulture)
                    : constant.HasValue && constant.Value is bool b ? (b ? 1 : 0) : null;
                args.Add(new ArgSpec(arg.NameColon?.Name.Identifier.ValueText, arg.Expression.ToString(), value));
            }
        }
        return new LayerSpec(Escape(member.Name), kind, typeName, args.ToEquatableArray());
    }

    private static ForwardSpec ParseForward(MethodDeclarationSyntax method)
    {
        var parameters = method.ParameterList.Parameters.Select(p => Escape(p.Identifier.ValueText)).ToEquatableArray();
        var body = new List<StatementSpec>();
        if (method.ExpressionBody is { } arrow) body.Add(new StatementSpec(StatementKind.Return, "", ParseExpression(arrow.Expression), "", EquatableArray<StatementSpec>.Empty));
        else if (method.Body is { } block) body.AddRange(block.Statements.Select(ParseStatement));
        return new ForwardSpec(parameters, body.ToEquatableArray());
    }

    private static StatementSpec ParseStatement(StatementSyntax statement)
    {
        var none = EquatableArray<StatementSpec>.Empty;
        switch (statement)
        {
            case LocalDeclarationStatementSyntax { Declaration.Variables.Count: 1 } local
                when local.Declaration.Variables[0].Initializer is { } init:
                return new StatementSpec(StatementKind.Assign, local.Declaration.Variables[0].Identifier.ValueText, ParseExpression(init.Value), "", none);
            case ExpressionStatementSyntax { Expression: AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression, Left: IdentifierNameSyntax target } assign }:
                return new StatementSpec(StatementKind.Assign, target.Identifier.ValueText, ParseExpression(assign.Right), "", none);
            case ReturnStatementSyntax { Expression: { } value }:
                return new StatementSpec(StatementKind.Return, "", ParseExpression(value), "", none);
            case ForEachStatementSyntax loop when MemberName(loop.Expression) is { } collection:
                var inner = loop.Statement is BlockSyntax b ? b.Statements.Select(ParseStatement) : new[] { ParseStatement(loop.Statement) };
                return new StatementSpec(StatementKind.Foreach, loop.Identifier.ValueText, null, collection, inner.ToEquatableArray());
            default:
                return new StatementSpec(StatementKind.Assign, "", ExpressionSpec.Unsupported(Describe(statement)), "", none);
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

    public static ExpressionSpec ParseExpression(ExpressionSyntax expression)
    {
        var none = EquatableArray<ExpressionSpec>.Empty;
        switch (expression)
        {
            case ParenthesizedExpressionSyntax p:
                return ParseExpression(p.Expression);
            case CastExpressionSyntax c when c.Expression is LiteralExpressionSyntax:
                return ParseExpression(c.Expression);
            case IdentifierNameSyntax id:
                return new ExpressionSpec(ExpressionKind.Variable, id.Identifier.ValueText, none);
            case MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name: var thisName }:
                return new ExpressionSpec(ExpressionKind.Variable, thisName.Identifier.ValueText, none);
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.NumericLiteralExpression } lit:
                return new ExpressionSpec(ExpressionKind.Number, lit.Token.Text, none, System.Convert.ToDouble(lit.Token.Value, System.Globalization.CultureInfo.InvariantCulture));
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.TrueLiteralExpression }:
                return new ExpressionSpec(ExpressionKind.Number, "true", none, 1);
            case LiteralExpressionSyntax { RawKind: (int)SyntaxKind.FalseLiteralExpression }:
                return new ExpressionSpec(ExpressionKind.Number, "false", none, 0);
            case PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.UnaryMinusExpression } neg:
                var operand = ParseExpression(neg.Operand);
                return operand.Kind == ExpressionKind.Number
                    ? operand with { Number = -operand.Number, Name = "-" + operand.Name }
                    : new ExpressionSpec(ExpressionKind.Negate, "-", new[] { operand }.ToEquatableArray());
            case BinaryExpressionSyntax bin when bin.Kind() is SyntaxKind.AddExpression or SyntaxKind.SubtractExpression or SyntaxKind.MultiplyExpression or SyntaxKind.DivideExpression:
                return new ExpressionSpec(ExpressionKind.Binary, bin.OperatorToken.Text,
                    new[] { ParseExpression(bin.Left), ParseExpression(bin.Right) }.ToEquatableArray());
            case InvocationExpressionSyntax call:
                var args = call.ArgumentList.Arguments.Select(a => ParseExpression(a.Expression) with { ArgName = a.NameColon?.Name.Identifier.ValueText }).ToEquatableArray();
                switch (call.Expression)
                {
                    case IdentifierNameSyntax fn:
                        return new ExpressionSpec(ExpressionKind.Function, fn.Identifier.ValueText, args);
                    case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Apply" } apply when MemberName(apply.Expression) is { } layer:
                        return new ExpressionSpec(ExpressionKind.LayerCall, layer, args);
                    case MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.ValueText: "Module" }, Name: var staticName }:
                        return new ExpressionSpec(ExpressionKind.Function, staticName.Identifier.ValueText, args);
                    case MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Reshape" or "View" } reshape:
                        var target = ParseExpression(reshape.Expression);
                        return new ExpressionSpec(ExpressionKind.Method, "Reshape", new[] { target }.Concat(args).ToEquatableArray());
                }
                break;
        }
        return ExpressionSpec.Unsupported(Describe(expression));
    }
}
