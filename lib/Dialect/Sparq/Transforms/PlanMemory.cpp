//===- PlanMemory.cpp - Static arena plan for intermediate buffers ---------===//
//
// After bufferization every intermediate tensor is a statically shaped
// memref.alloc in the entry function. This pass computes each buffer's live
// range (from its allocation to the last use of the buffer or of any view of
// it), packs the buffers into one arena so that buffers alive at the same
// time never overlap, and replaces the allocations with memref.view ops into
// an arena argument appended to the entry function. The runtime allocates
// the arena once per model instance, so inference allocates nothing.
//
//===----------------------------------------------------------------------===//

#include "sparq/Dialect/Sparq/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

namespace sparq {
#define GEN_PASS_DEF_SPARQPLANMEMORYPASS
#include "sparq/Dialect/Sparq/Transforms/Passes.h.inc"
} // namespace sparq

using namespace mlir;
using namespace sparq;

namespace {

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t first = 0, last = 0;
  int64_t offset = -1;
};

int64_t alignTo(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

/// Byte size of a static, identity-layout memref; -1 when not plannable.
int64_t byteSize(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace())
    return -1;
  Type element = type.getElementType();
  int64_t elementBytes;
  if (element.isIntOrFloat())
    elementBytes = std::max<int64_t>(1, element.getIntOrFloatBitWidth() / 8);
  else if (isa<IndexType>(element))
    elementBytes = 8;
  else
    return -1;
  return type.getNumElements() * elementBytes;
}

/// Computes the index (in `block`) of the last op that uses `root` or a view
/// of it. Returns failure when the buffer escapes through a return.
LogicalResult lastUse(Value root, Block &block,
                      const DenseMap<Operation *, int64_t> &position,
                      int64_t &last) {
  llvm::SetVector<Value> aliases;
  aliases.insert(root);
  for (size_t i = 0; i < aliases.size(); ++i) {
    for (OpOperand &use : aliases[i].getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp>(user))
        return failure();
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == aliases[i])
          for (Value r : user->getResults())
            aliases.insert(r);
      // Ops that forward a memref operand as a result (casts) alias it too,
      // and a raw pointer taken from the buffer (for a microkernel call)
      // keeps it alive wherever the pointer flows.
      bool pointerLand = !isa<MemRefType>(aliases[i].getType());
      if (pointerLand || isa<memref::ExtractAlignedPointerAsIndexOp>(user) ||
          (user->getNumResults() == 1 && user->getNumOperands() == 1 &&
           isa<MemRefType>(user->getResult(0).getType())))
        for (Value r : user->getResults())
          aliases.insert(r);
      Operation *ancestor = block.findAncestorOpInBlock(*user);
      if (!ancestor)
        return failure();
      last = std::max(last, position.lookup(ancestor));
    }
  }
  return success();
}

struct SparqPlanMemoryPass
    : sparq::impl::SparqPlanMemoryPassBase<SparqPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = lookupEntryFunction(module, entryName);
    if (!entry)
      return signalPassFailure();
    if (alignment <= 0 || (alignment & (alignment - 1))) {
      module.emitError("arena alignment must be a power of two");
      return signalPassFailure();
    }
    Block &block = entry.getBody().front();
    DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(block))
      position[&op] = i;

    SmallVector<Buffer> buffers;
    for (Operation &op : block) {
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (!alloc)
        continue;
      int64_t bytes = byteSize(alloc.getType());
      if (bytes < 0)
        continue;
      Buffer buffer;
      buffer.alloc = alloc;
      buffer.bytes = alignTo(std::max<int64_t>(bytes, 1), alignment);
      buffer.first = buffer.last = position[&op];
      if (failed(lastUse(alloc.getResult(), block, position, buffer.last)))
        continue;
      buffers.push_back(buffer);
    }

    // Greedy placement, largest first: each buffer takes the lowest offset
    // that overlaps no already-placed buffer with an intersecting lifetime.
    SmallVector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    llvm::stable_sort(order, [](Buffer *a, Buffer *b) {
      return a->bytes > b->bytes;
    });
    int64_t arenaBytes = 0;
    SmallVector<Buffer *> placed;
    for (Buffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Buffer *p : placed)
        if (p->first <= b->last && b->first <= p->last)
          busy.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [begin, end] : busy) {
        if (offset + b->bytes <= begin)
          break;
        offset = std::max(offset, end);
      }
      b->offset = offset;
      arenaBytes = std::max(arenaBytes, offset + b->bytes);
      placed.push_back(b);
    }
    arenaBytes = std::max<int64_t>(arenaBytes, alignment);

    OpBuilder builder(&getContext());
    auto arenaType = MemRefType::get({arenaBytes}, builder.getI8Type());
    if (failed(entry.insertArgument(entry.getNumArguments(), arenaType,
                                    DictionaryAttr(), entry.getLoc()))) {
      entry.emitError("cannot append the arena argument");
      return signalPassFailure();
    }
    Value arena = entry.getArgument(entry.getNumArguments() - 1);
    for (Buffer &b : buffers) {
      builder.setInsertionPoint(b.alloc);
      Location loc = b.alloc.getLoc();
      Value offset = arith::ConstantIndexOp::create(builder, loc, b.offset);
      auto view = memref::ViewOp::create(builder, loc, b.alloc.getType(),
                                         arena, offset, ValueRange());
      for (Operation *user :
           llvm::make_early_inc_range(b.alloc.getResult().getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      b.alloc.getResult().replaceAllUsesWith(view.getResult());
      b.alloc.erase();
    }
    module->setAttr("sparq.arena_size", builder.getI64IntegerAttr(arenaBytes));
    module->setAttr("sparq.arena_buffers",
                    builder.getI64IntegerAttr(buffers.size()));
  }
};

} // namespace

func::FuncOp sparq::lookupEntryFunction(ModuleOp module, StringRef name) {
  auto entry = module.lookupSymbol<func::FuncOp>(name);
  if (!entry || entry.isExternal()) {
    module.emitError("entry function '") << name << "' not found";
    return {};
  }
  return entry;
}
