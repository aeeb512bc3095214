//===- ParallelizeLoops.cpp - Run large loop nests on the runtime pool ----===//
//
// Linalg ops on buffers become `scf.parallel` nests (with `scf.for` for
// reduction dimensions) that would otherwise run on one thread. This pass
// outlines each large outermost `scf.parallel` of the entry function into a
// private function `(closure, begin, end)` covering a range of its leading
// parallel dimensions, linearized, and replaces the loop by a call to the
// runtime's `sparq_rt_parallel_for`. The closure is a stack struct holding
// what the loop captures: buffers as aligned pointers, which the outlined
// function rebuilds into memref descriptors of the same static type, and
// scalars by value. Constants, globals and views of captured buffers are
// rematerialized inside the outlined function rather than passed.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MathExtras.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQPARALLELIZELOOPSPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

constexpr StringLiteral kContextFn = "sparq_rt_current_context";
constexpr StringLiteral kParallelForFn = "sparq_rt_parallel_for";

/// Leading parallel dimensions are linearized until they offer this many
/// independent iterations, so that pools larger than two threads balance
/// and leading unit dimensions (batch 1) do not serialize the loop.
constexpr int64_t kMinParallelIterations = 64;

/// a * b, clamped to INT64_MAX (work estimates only need an order).
int64_t mulSat(int64_t a, int64_t b) {
  int64_t result;
  return llvm::MulOverflow(a, b, result) ? INT64_MAX : result;
}

/// Iterations of the parallel range: the product of the leading
/// `numLinearized` trip counts.
int64_t linearizedIterations(ArrayRef<int64_t> trips, unsigned numLinearized) {
  int64_t iterations = 1;
  for (int64_t t : trips.take_front(numLinearized))
    iterations = mulSat(iterations, t);
  return iterations;
}

/// Trip count of a loop dimension with constant bounds, or -1.
int64_t constantTripCount(Value lb, Value ub, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lb);
  std::optional<int64_t> u = getConstantIntValue(ub);
  std::optional<int64_t> s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return -1;
  return *u <= *l ? 0 : (*u - *l + *s - 1) / *s;
}

/// Scalar iterations times ops in `block`, counting nested loops by their
/// trip counts (a loop without constant bounds counts once).
int64_t estimateWork(Block &block) {
  int64_t work = 0;
  for (Operation &op : block.without_terminator()) {
    int64_t trips = 1;
    if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      trips = std::max<int64_t>(1, constantTripCount(forOp.getLowerBound(),
                                                     forOp.getUpperBound(),
                                                     forOp.getStep()));
    } else if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
      for (auto [lb, ub, step] :
           llvm::zip(parallel.getLowerBound(), parallel.getUpperBound(),
                     parallel.getStep()))
        trips *= std::max<int64_t>(1, constantTripCount(lb, ub, step));
    }
    int64_t inner = 0;
    for (Region &region : op.getRegions())
      for (Block &nested : region)
        inner += estimateWork(nested);
    int64_t opWork = mulSat(trips, std::max<int64_t>(1, inner));
    work = opWork > INT64_MAX - work ? INT64_MAX : work + opWork;
  }
  return work;
}

/// Whether a memref can cross the closure as a bare aligned pointer: its
/// shape, strides and offset are static, so the outlined function rebuilds
/// the descriptor from constants.
bool isRebuildableMemRef(MemRefType type) {
  if (!type.hasStaticShape() || type.getMemorySpace())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return !ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

/// The closure field type of a captured value, or null when the value
/// cannot be captured.
Type closureFieldType(Value value) {
  MLIRContext *ctx = value.getContext();
  Type type = value.getType();
  if (auto memref = dyn_cast<MemRefType>(type))
    return isRebuildableMemRef(memref) ? LLVM::LLVMPointerType::get(ctx)
                                       : Type();
  if (isa<IndexType>(type))
    return IntegerType::get(ctx, 64);
  if (isa<IntegerType, LLVM::LLVMPointerType, Float16Type, BFloat16Type,
          Float32Type, Float64Type>(type))
    return type;
  return Type();
}

/// Ops the outlined function recomputes instead of receiving: constants,
/// globals and views, whose operands are themselves recomputed or captured.
bool isRematerializable(Operation *op) {
  if (op->getNumRegions() != 0 || op->getNumResults() != 1 || !isPure(op))
    return false;
  return op->hasTrait<OpTrait::ConstantLike>() ||
         isa<memref::GetGlobalOp, ViewLikeOpInterface>(op);
}

/// What an outlined loop takes from its parent: values passed through the
/// closure and ops cloned into the outlined function (in dominance order).
struct Captures {
  llvm::SetVector<Value> fields;
  llvm::SetVector<Operation *> clones;
};

/// Sorts the values `loop` uses from above into closure fields and
/// rematerialized ops. Fails when some value cannot cross the closure.
LogicalResult collectCaptures(scf::ParallelOp loop, Captures &captures) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop.getRegion(), used);
  // Post-order over the rematerializable producers, so every clone follows
  // the clones of its operands.
  std::function<LogicalResult(Value)> visit = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (def && isRematerializable(def)) {
      if (captures.clones.contains(def))
        return success();
      for (Value operand : def->getOperands())
        if (failed(visit(operand)))
          return failure();
      captures.clones.insert(def);
      return success();
    }
    if (!closureFieldType(value))
      return failure();
    captures.fields.insert(value);
    return success();
  };
  for (Value value : used)
    if (failed(visit(value)))
      return failure();
  return success();
}

/// Declares `name` privately in `module` with `type` unless it exists;
/// fails when an existing symbol has another type.
LogicalResult declareRuntimeFunction(ModuleOp module, StringRef name,
                                     FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name)) {
    if (existing.getFunctionType() == type)
      return success();
    return existing.emitOpError("expected type ")
           << type << " for the runtime function";
  }
  if (module.lookupSymbol(name))
    return module.emitError("symbol '") << name << "' is not a function";
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto fn = func::FuncOp::create(builder, module.getLoc(), name, type);
  fn.setPrivate();
  return success();
}

/// Builds a memref of the static type `type` over the aligned pointer `ptr`
/// as an LLVM descriptor cast to the memref type; the memref-to-LLVM
/// conversion folds the cast away.
Value rebuildMemRef(OpBuilder &b, Location loc, MemRefType type, Value ptr) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  SmallVector<int64_t> strides;
  int64_t offset = 0;
  (void)type.getStridesAndOffset(strides, offset);
  int64_t rank = type.getRank();
  SmallVector<Type> fields = {ptr.getType(), ptr.getType(), i64};
  if (rank > 0) {
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
    fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
  }
  auto descriptorType = LLVM::LLVMStructType::getLiteral(ctx, fields);
  auto constant = [&](int64_t v) -> Value {
    return LLVM::ConstantOp::create(b, loc, i64, v);
  };
  Value desc = LLVM::PoisonOp::create(b, loc, descriptorType);
  desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{0});
  desc = LLVM::InsertValueOp::create(b, loc, desc, ptr, ArrayRef<int64_t>{1});
  desc = LLVM::InsertValueOp::create(b, loc, desc, constant(offset),
                                     ArrayRef<int64_t>{2});
  for (int64_t d = 0; d < rank; ++d) {
    desc = LLVM::InsertValueOp::create(
        b, loc, desc, constant(type.getDimSize(d)), ArrayRef<int64_t>{3, d});
    desc = LLVM::InsertValueOp::create(b, loc, desc, constant(strides[d]),
                                       ArrayRef<int64_t>{4, d});
  }
  return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
}

/// Outlines one `scf.parallel` and replaces it with a parallel_for call.
class LoopOutliner {
public:
  LoopOutliner(ModuleOp module, func::FuncOp entry, SymbolTable &symbols)
      : module(module), entry(entry), symbols(symbols),
        ptrType(LLVM::LLVMPointerType::get(module.getContext())) {}

  void outline(scf::ParallelOp loop, const Captures &captures,
               ArrayRef<int64_t> trips, unsigned numLinearized) {
    Location loc = loop.getLoc();
    MLIRContext *ctx = module.getContext();
    SmallVector<Type> fieldTypes;
    for (Value value : captures.fields)
      fieldTypes.push_back(closureFieldType(value));
    auto closureType = LLVM::LLVMStructType::getLiteral(ctx, fieldTypes);
    func::FuncOp body =
        createBody(loop, captures, closureType, trips, numLinearized);

    // The closure lives in the entry block, so a loop nested in a serial
    // loop does not grow the stack on every iteration.
    OpBuilder b = OpBuilder::atBlockBegin(&entry.getBody().front());
    Value one = LLVM::ConstantOp::create(b, loc, b.getI64Type(), 1);
    Value closure =
        LLVM::AllocaOp::create(b, loc, ptrType, closureType, one, 8);

    b.setInsertionPoint(loop);
    for (auto [i, value] : llvm::enumerate(captures.fields)) {
      Value field = fieldAddress(b, loc, closureType, closure, i);
      LLVM::StoreOp::create(b, loc, toFieldValue(b, loc, value), field);
    }
    Value context = func::CallOp::create(b, loc, kContextFn, TypeRange{ptrType},
                                         ValueRange{})
                        .getResult(0);
    Value n = arith::ConstantOp::create(
        b, loc,
        b.getI64IntegerAttr(linearizedIterations(trips, numLinearized)));
    Value fn = func::ConstantOp::create(b, loc, body.getFunctionType(),
                                        body.getSymName());
    func::CallOp::create(b, loc, kParallelForFn, TypeRange{},
                         ValueRange{context, n, fn, closure});
    loop.erase();
  }

  FunctionType bodyType() {
    Type i64 = IntegerType::get(module.getContext(), 64);
    return FunctionType::get(module.getContext(), {ptrType, i64, i64}, {});
  }

private:
  Value fieldAddress(OpBuilder &b, Location loc, Type closureType,
                     Value closure, int64_t index) {
    return LLVM::GEPOp::create(b, loc, ptrType, closureType, closure,
                               ArrayRef<LLVM::GEPArg>{0, (int32_t)index});
  }

  /// The closure representation of a captured value (before the call).
  Value toFieldValue(OpBuilder &b, Location loc, Value value) {
    if (isa<MemRefType>(value.getType())) {
      Value index =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, value);
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
      return LLVM::IntToPtrOp::create(b, loc, ptrType, i64);
    }
    if (isa<IndexType>(value.getType()))
      return arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
    return value;
  }

  /// The captured value rebuilt from its closure field (in the body).
  Value fromField(OpBuilder &b, Location loc, Value original, Value field) {
    Type type = original.getType();
    if (auto memref = dyn_cast<MemRefType>(type))
      return rebuildMemRef(b, loc, memref, field);
    if (isa<IndexType>(type))
      return arith::IndexCastOp::create(b, loc, type, field);
    return field;
  }

  func::FuncOp createBody(scf::ParallelOp loop, const Captures &captures,
                          LLVM::LLVMStructType closureType,
                          ArrayRef<int64_t> trips, unsigned numLinearized) {
    Location loc = loop.getLoc();
    // Outlined functions follow the entry in the order of their loops.
    OpBuilder moduleBuilder(module.getContext());
    moduleBuilder.setInsertionPointAfter(lastOutlined ? lastOutlined : entry);
    std::string name;
    do {
      name = (entry.getSymName() + "_par_" + Twine(nextIndex++)).str();
    } while (symbols.lookup(name));
    auto fn = func::FuncOp::create(moduleBuilder, loc, name, bodyType());
    fn.setPrivate();
    // Private to the model's object file too, not only to the module.
    fn->setAttr("llvm.linkage", LLVM::LinkageAttr::get(
                                    fn.getContext(), LLVM::Linkage::Internal));
    symbols.insert(fn);
    lastOutlined = fn;

    OpBuilder b = OpBuilder::atBlockBegin(fn.addEntryBlock());
    Value closure = fn.getArgument(0);
    IRMapping mapping;
    for (auto [i, value] : llvm::enumerate(captures.fields)) {
      Type fieldType = closureType.getBody()[i];
      Value field = LLVM::LoadOp::create(
          b, loc, fieldType, fieldAddress(b, loc, closureType, closure, i));
      mapping.map(value, fromField(b, loc, value, field));
    }
    for (Operation *op : captures.clones)
      b.clone(*op, mapping);

    // Constants go to the top of the function, ahead of the loops.
    Block *top = &fn.getBody().front();
    auto indexConstant = [&](int64_t v) -> Value {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(top);
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    auto lowerBound = [&](unsigned d) {
      return *getConstantIntValue(loop.getLowerBound()[d]);
    };
    auto stepOf = [&](unsigned d) {
      return *getConstantIntValue(loop.getStep()[d]);
    };
    // iv_d = lb_d + index_d * step_d.
    auto inductionValue = [&](unsigned d, Value index) -> Value {
      Value iv = index;
      if (stepOf(d) != 1)
        iv = arith::MulIOp::create(b, loc, iv, indexConstant(stepOf(d)));
      if (lowerBound(d) != 0)
        iv = arith::AddIOp::create(b, loc, iv, indexConstant(lowerBound(d)));
      return iv;
    };

    Value begin =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), fn.getArgument(1));
    Value end =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), fn.getArgument(2));
    auto outer = scf::ForOp::create(b, loc, begin, end, indexConstant(1));
    b.setInsertionPointToStart(outer.getBody());

    // Delinearize the chunk index over the leading dimensions, innermost
    // first. Every index is taken modulo its trip count, the outermost one
    // too although the runtime keeps it in range: a remainder by a constant
    // tells LLVM the index range, without which it cannot prove the accesses
    // of the inner loops disjoint and leaves some (pooling) unvectorized.
    ValueRange ivs = loop.getInductionVars();
    Value rest = outer.getInductionVar();
    for (int d = numLinearized - 1; d >= 0; --d) {
      bool outermost =
          llvm::all_of(trips.take_front(d), [](int64_t t) { return t == 1; });
      Value index;
      if (trips[d] == 1) {
        index = indexConstant(0);
      } else {
        Value t = indexConstant(trips[d]);
        index = arith::RemUIOp::create(b, loc, rest, t);
        if (!outermost)
          rest = arith::DivUIOp::create(b, loc, rest, t);
      }
      mapping.map(ivs[d], inductionValue(d, index));
    }
    // The remaining parallel dimensions run serially inside one chunk.
    for (unsigned d = numLinearized; d < ivs.size(); ++d) {
      auto inner = scf::ForOp::create(
          b, loc, indexConstant(lowerBound(d)),
          indexConstant(lowerBound(d) + trips[d] * stepOf(d)),
          indexConstant(stepOf(d)));
      mapping.map(ivs[d], inner.getInductionVar());
      b.setInsertionPointToStart(inner.getBody());
    }
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);

    b.setInsertionPointToEnd(&fn.getBody().front());
    func::ReturnOp::create(b, loc);
    return fn;
  }

  ModuleOp module;
  func::FuncOp entry;
  SymbolTable &symbols;
  Type ptrType;
  unsigned nextIndex = 0;
  func::FuncOp lastOutlined;
};

struct SparqParallelizeLoopsPass
    : sparq::impl::SparqParallelizeLoopsPassBase<SparqParallelizeLoopsPass> {
  using SparqParallelizeLoopsPassBase::SparqParallelizeLoopsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = lookupEntryFunction(module, entryName);
    if (!entry)
      return signalPassFailure();

    // Outermost parallel loops only: a nested one runs inside its parent's
    // chunk anyway.
    SmallVector<scf::ParallelOp> loops;
    entry.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
      loops.push_back(loop);
      return WalkResult::skip();
    });

    SymbolTable symbols(module);
    LoopOutliner outliner(module, entry, symbols);
    bool declared = false;
    for (scf::ParallelOp loop : loops) {
      SmallVector<int64_t> trips;
      if (!planLoop(loop, trips))
        continue;
      unsigned numLinearized = chooseLinearizedDims(loop, trips);
      if (linearizedIterations(trips, numLinearized) < 2)
        continue;
      Captures captures;
      if (failed(collectCaptures(loop, captures)))
        continue;
      if (!declared) {
        MLIRContext *ctx = &getContext();
        Type ptr = LLVM::LLVMPointerType::get(ctx);
        Type i64 = IntegerType::get(ctx, 64);
        if (failed(declareRuntimeFunction(module, kContextFn,
                                          FunctionType::get(ctx, {}, {ptr}))) ||
            failed(declareRuntimeFunction(
                module, kParallelForFn,
                FunctionType::get(ctx, {ptr, i64, outliner.bodyType(), ptr},
                                  {}))))
          return signalPassFailure();
        declared = true;
      }
      outliner.outline(loop, captures, trips, numLinearized);
    }
  }

  /// Whether `loop` is worth and able to run in parallel; fills its trip
  /// counts.
  bool planLoop(scf::ParallelOp loop, SmallVectorImpl<int64_t> &trips) {
    if (loop.getNumReductions() != 0)
      return false;
    // The body's stack allocations are scoped by the scf.parallel; the
    // outlined scf.for would not release them per iteration.
    if (loop.getBody()
            ->walk([](memref::AllocaOp) { return WalkResult::interrupt(); })
            .wasInterrupted())
      return false;
    int64_t iterations = 1;
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      int64_t t = constantTripCount(lb, ub, step);
      if (t < 0)
        return false;
      trips.push_back(t);
      iterations = mulSat(iterations, t);
    }
    int64_t work =
        mulSat(iterations, std::max<int64_t>(1, estimateWork(*loop.getBody())));
    return work >= minWork;
  }

  /// How many leading dimensions form the parallel range. The innermost
  /// dimension of a loop without inner loops stays serial, so it still
  /// vectorizes, unless every other dimension has a single iteration.
  static unsigned chooseLinearizedDims(scf::ParallelOp loop,
                                       ArrayRef<int64_t> trips) {
    unsigned rank = trips.size();
    bool hasInnerLoops = false;
    loop.getBody()->walk([&](LoopLikeOpInterface) { hasInnerLoops = true; });
    unsigned limit = hasInnerLoops || rank == 1 ? rank : rank - 1;
    unsigned count = 0;
    int64_t iterations = 1;
    while (count < limit && iterations < kMinParallelIterations)
      iterations = mulSat(iterations, trips[count++]);
    if (iterations < 2)
      return rank;
    return count;
  }
};

} // namespace
